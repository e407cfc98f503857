import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { TaskTokenServer } from '../../../local/task-tokens.js';

/** Sockets that keep the process alive (unref'd handles are not listed). */
const heldSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
/** Lets closed handles finish closing before they are counted. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** One SendTaskSuccess over a keep-alive connection, as the handlers' SFN client sends it. */
function sendTaskSuccess(endpoint: string, taskToken: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${endpoint}/`,
      {
        method: 'POST',
        headers: { 'x-amz-target': 'AWSStepFunctions.SendTaskSuccess', connection: 'keep-alive' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ taskToken, output: '{"ok":true}' }));
  });
}

describe('the local task-token server', () => {
  it('settles a minted token with the output SendTaskSuccess carries', async () => {
    // Arrange
    const server = new TaskTokenServer();
    const endpoint = await server.start();
    const { token, answer } = server.mint();

    // Act
    const status = await sendTaskSuccess(endpoint, token);

    // Assess
    expect(status).toBe(200);
    await expect(answer).resolves.toEqual({ ok: true });
    await server.stop();
  });

  it('does not keep the process alive through a connection it accepted (a CLI exits when its bake is done)', async () => {
    // Arrange: the client's idle keep-alive socket is unref'd by its agent; the server's end of it
    // used to hold the event loop until Node's keep-alive timeout, seconds after the result.
    const server = new TaskTokenServer();
    const endpoint = await server.start();
    await settle();
    const before = heldSockets();
    const { token, answer } = server.mint();

    // Act
    await sendTaskSuccess(endpoint, token);
    await answer;
    await settle();

    // Assess
    expect(heldSockets()).toBe(before);
    await server.stop();
  });
});
