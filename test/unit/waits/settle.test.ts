import { SendTaskFailureCommand, SendTaskSuccessCommand, TaskDoesNotExist } from '@aws-sdk/client-sfn';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { settle } from '../../../lib/waits/settle.js';
import { memoryStore, mockedSfn, waitRecord } from './fakes.js';

const { sfn, sfnMock } = mockedSfn();
const record = waitRecord('instance-stopped', 'us-east-1', 'i-0builder00000001');

function sfnError(name: string) {
  return Object.assign(new Error(name), { name, $metadata: {} });
}

beforeEach(() => sfnMock.reset());

describe('settle', () => {
  it('sends the success output for the task token and forgets the wait', async () => {
    // Prepare
    const { store, records } = memoryStore([record]);

    // Act
    const answered = await settle(
      record,
      { status: 'success', output: { outcome: 'success', exitCode: 0 } },
      { sfn, store },
    );

    // Assess
    expect(answered).toBe(true);
    expect(sfnMock).toHaveReceivedCommandExactlyOnceWith(SendTaskSuccessCommand, {
      taskToken: 'token-for-i-0builder00000001',
      output: JSON.stringify({ outcome: 'success', exitCode: 0 }),
    });
    expect(records.size).toBe(0);
  });

  it('sends the error name and cause of a failure', async () => {
    // Prepare
    const { store } = memoryStore([record]);

    // Act
    await settle(
      record,
      { status: 'failure', error: 'BootstrapFailedError', cause: 'exit 3' },
      { sfn, store },
    );

    // Assess
    expect(sfnMock).toHaveReceivedCommandExactlyOnceWith(SendTaskFailureCommand, {
      taskToken: 'token-for-i-0builder00000001',
      error: 'BootstrapFailedError',
      cause: 'exit 3',
    });
  });

  it('cuts a cause longer than Step Functions accepts', async () => {
    // Prepare
    const { store } = memoryStore([record]);

    // Act
    await settle(
      record,
      { status: 'failure', error: 'BootstrapFailedError', cause: 'x'.repeat(40_000) },
      { sfn, store },
    );

    // Assess
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.cause).toHaveLength(32_000);
  });

  it('leaves a pending wait untouched', async () => {
    // Prepare
    const { store, records } = memoryStore([record]);

    // Act
    const answered = await settle(record, { status: 'pending' }, { sfn, store });

    // Assess
    expect(answered).toBe(false);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    expect(records.has(record.resource)).toBe(true);
  });

  it.each([
    ['TaskDoesNotExist', new TaskDoesNotExist({ message: 'gone', $metadata: {} })],
    ['TaskTimedOut', sfnError('TaskTimedOut')],
    ['InvalidToken', sfnError('InvalidToken')],
  ])('treats %s as already answered: no throw, and the record is still deleted', async (_, error) => {
    // Prepare
    const { store, records } = memoryStore([record]);
    sfnMock.on(SendTaskSuccessCommand).rejects(error);

    // Act
    const answered = await settle(record, { status: 'success', output: {} }, { sfn, store });

    // Assess
    expect(answered).toBe(true);
    expect(records.size).toBe(0);
  });

  it('is safe to run twice for one record, as when an event and the reconciler race', async () => {
    // Prepare
    const { store, records } = memoryStore([record]);
    sfnMock
      .on(SendTaskSuccessCommand)
      .resolvesOnce({})
      .rejects(new TaskDoesNotExist({ message: 'answered', $metadata: {} }));

    // Act
    const first = await settle(record, { status: 'success', output: {} }, { sfn, store });
    const second = await settle(record, { status: 'success', output: {} }, { sfn, store });

    // Assess
    expect([first, second]).toEqual([true, true]);
    expect(records.size).toBe(0);
  });

  it('rethrows any other error and keeps the record for the next attempt', async () => {
    // Prepare
    const { store, records } = memoryStore([record]);
    sfnMock.on(SendTaskFailureCommand).rejects(sfnError('ThrottlingException'));

    // Act
    const result = settle(
      record,
      { status: 'failure', error: 'ImageFailedError', cause: 'x' },
      { sfn, store },
    );

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(records.has(record.resource)).toBe(true);
  });
});
