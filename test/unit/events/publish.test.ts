import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventNotPublishedError, EventThrottledError } from '../../../lib/errors.js';
import { putBakeEvent } from '../../../lib/publish.js';

const eventsMock = mockClient(EventBridgeClient);
const events = new EventBridgeClient({ region: 'us-east-1' });

const detail = {
  recipe: { name: 'web', hash: 'a'.repeat(64) },
  contentKey: 'c'.repeat(64),
  base: { imageId: 'ami-0123456789abcdef0' },
  images: { 'us-east-1': { imageId: 'ami-0source000000001', snapshotIds: ['snap-1'] } },
  source: 'schedule',
  skippedAt: '2026-11-26T04:47:42.123Z',
};

const failed = (ErrorCode: string, ErrorMessage = 'the entry failed') => ({
  FailedEntryCount: 1,
  Entries: [{ ErrorCode, ErrorMessage }],
});
const accepted = { FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] };

/** Records the backoff instead of sleeping. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

beforeEach(() => eventsMock.reset());

describe('putBakeEvent', () => {
  it.each(['ThrottlingException', 'InternalFailure'])(
    'sends an entry that failed with %s again, after a backoff, and returns its event id',
    async (code) => {
      // Prepare
      eventsMock.on(PutEventsCommand).resolvesOnce(failed(code)).resolves(accepted);
      const { waits, sleep } = recordingSleep();

      // Act
      const eventId = await putBakeEvent(events, 'ami-bake', 'Bake Skipped', detail, { sleep });

      // Assess
      expect(eventId).toBe('evt-1');
      expect(eventsMock).toHaveReceivedCommandTimes(PutEventsCommand, 2);
      expect(waits).toHaveLength(1);
    },
  );

  it('throws EventThrottledError, which the state machine retries, when the entry stays throttled', async () => {
    // Prepare
    eventsMock.on(PutEventsCommand).resolves(failed('ThrottlingException', 'Rate exceeded'));
    const { waits, sleep } = recordingSleep();

    // Act
    const result = putBakeEvent(events, 'ami-bake', 'Bake Skipped', detail, { sleep, attempts: 3 });

    // Assess
    await expect(result).rejects.toBeInstanceOf(EventThrottledError);
    await expect(result).rejects.toThrow(/Bake Skipped: ThrottlingException Rate exceeded/);
    expect(eventsMock).toHaveReceivedCommandTimes(PutEventsCommand, 3);
    expect(waits).toHaveLength(2);
    expect(waits.every((ms) => ms >= 0 && ms <= 2_000)).toBe(true);
  });

  it.each(['MalformedDetail', 'AccessDeniedException', 'NotAuthorizedForSourceException'])(
    'throws EventNotPublishedError at once, without sending again, for a permanent %s',
    async (code) => {
      // Prepare
      eventsMock.on(PutEventsCommand).resolves(failed(code));
      const { waits, sleep } = recordingSleep();

      // Act
      const result = putBakeEvent(events, 'ami-bake', 'Bake Skipped', detail, { sleep });

      // Assess
      await expect(result).rejects.toBeInstanceOf(EventNotPublishedError);
      await expect(result).rejects.toThrow(code);
      expect(eventsMock).toHaveReceivedCommandTimes(PutEventsCommand, 1);
      expect(waits).toEqual([]);
    },
  );
});
