import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { retryConfig, setRetryClock } from '../../../lib/aws/retry.js';

/** Every call answered with EC2's throttling error, as a busy account sees it. */
const throttled = {
  handle: async () => ({
    response: {
      statusCode: 503,
      headers: { 'content-type': 'text/xml' },
      body: Buffer.from(
        '<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>',
      ),
    },
  }),
};

/** The SDK's waits between attempts of one throttled call (ms), and how many attempts it made. */
async function backoffOfOneThrottledCall(): Promise<{ waits: number[]; attempts: number | undefined }> {
  const client = new EC2Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: throttled,
    ...retryConfig(5),
  });
  const waits: number[] = [];
  const realSetTimeout = globalThis.setTimeout;
  const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
    waits.push(ms ?? 0);
    return realSetTimeout(fn, 0);
  }) as typeof setTimeout);
  try {
    // The SDK's own send: files of the unit project share modules, and aws-sdk-client-mock stubs
    // EC2Client.prototype.send in some of them.
    const send = Object.getPrototypeOf(EC2Client.prototype).send as (
      this: EC2Client,
      command: DescribeRegionsCommand,
    ) => Promise<unknown>;
    const error = await send.call(client, new DescribeRegionsCommand({})).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RequestLimitExceeded' });
    return { waits, attempts: (error as { $metadata?: { attempts?: number } }).$metadata?.attempts };
  } finally {
    spy.mockRestore();
  }
}

describe('the SDK retry backoff', () => {
  // Made in each test: another file of the thread may restore every mock between tests.
  let random: MockInstance<typeof Math.random>;
  beforeEach(() => {
    random = vi.spyOn(Math, 'random');
  });
  afterEach(() => {
    setRetryClock(undefined);
    random.mockRestore();
  });

  it('is the SDK standard mode, untouched, when no local clock is set (deployed)', () => {
    expect(retryConfig(5)).toEqual({ maxAttempts: 5, retryMode: 'standard' });
  });

  it("waits on the behaviour layer's clock in local runs, with the same attempts", async () => {
    random.mockReturnValue(0.5);
    setRetryClock(1);
    const awsTime = await backoffOfOneThrottledCall();
    setRetryClock(20);
    const fastClock = await backoffOfOneThrottledCall();

    expect(awsTime.attempts).toBe(5);
    expect(fastClock.attempts).toBe(5);
    expect(awsTime.waits).toHaveLength(4);
    expect(fastClock.waits).toEqual(awsTime.waits.map((ms) => ms / 20));
  });

  it('follows a clock changed after the client was made (one client serves bakes of several profiles)', async () => {
    random.mockReturnValue(0.5);
    setRetryClock(1);
    const before = await backoffOfOneThrottledCall();
    setRetryClock(100);
    const after = await backoffOfOneThrottledCall();
    expect(after.waits).toEqual(before.waits.map((ms) => ms / 100));
  });
});
