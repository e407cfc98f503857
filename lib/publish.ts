import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventsSend } from './aws/eventbridge.js';
import { EventNotPublishedError, EventThrottledError } from './errors.js';
import { type DetailType, EVENT_DETAILS, EVENT_SOURCE } from './events.js';

/**
 * Entry error codes PutEvents documents as retryable. The call itself succeeds (HTTP 200), so the
 * SDK's retries never see them: a failed entry has to be sent again by us.
 */
const RETRYABLE_ENTRY_ERRORS: ReadonlySet<string> = new Set(['ThrottlingException', 'InternalFailure']);

export interface PublishOptions {
  /** Sends of a throttled entry, the first included (like the SDK's standard mode: 3). */
  attempts?: number;
  /** Waits between sends; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

/** Full-jitter exponential backoff, as the SDK does: at most 0.2 s, 0.4 s, ... capped at 2 s. */
const backoffMs = (attempt: number) => Math.random() * Math.min(2_000, 200 * 2 ** (attempt - 1));
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The one way the project publishes an event: the detail is validated against its documented
 * schema first (a malformed event never reaches subscribers), and a rejected entry is an error.
 * A throttled (or internally failed) entry is sent again a few times with backoff; if it still
 * fails, EventThrottledError, which the state machine retries. Any other entry error is
 * permanent: EventNotPublishedError, not retried.
 */
export async function putBakeEvent(
  events: EventsSend,
  busName: string,
  detailType: DetailType,
  detail: unknown,
  options: PublishOptions = {},
): Promise<string | undefined> {
  const valid = EVENT_DETAILS[detailType].parse(detail);
  const entry = {
    Source: EVENT_SOURCE,
    DetailType: detailType,
    Detail: JSON.stringify(valid),
    EventBusName: busName,
  };
  const attempts = options.attempts ?? 3;
  const sleep = options.sleep ?? delay;
  for (let attempt = 1; ; attempt += 1) {
    const { FailedEntryCount, Entries = [] } = await events.send(new PutEventsCommand({ Entries: [entry] }));
    const result = Entries[0];
    if (!FailedEntryCount) return result?.EventId;
    const code = result?.ErrorCode ?? 'unknown';
    const text = `${detailType}: ${code} ${result?.ErrorMessage ?? ''}`.trimEnd();
    if (!RETRYABLE_ENTRY_ERRORS.has(code)) throw new EventNotPublishedError(text);
    if (attempt >= attempts) throw new EventThrottledError(`${text} (${attempts} attempts)`);
    await sleep(backoffMs(attempt));
  }
}
