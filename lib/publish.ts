import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventsSend } from './aws/clients.js';
import { EventNotPublishedError } from './errors.js';
import { type DetailType, EVENT_DETAILS, EVENT_SOURCE } from './events.js';

/**
 * The one way the project publishes an event: the detail is validated against its documented
 * schema first (a malformed event never reaches subscribers), and a rejected entry is an error.
 */
export async function putBakeEvent(
  events: EventsSend,
  busName: string,
  detailType: DetailType,
  detail: unknown,
): Promise<string | undefined> {
  const valid = EVENT_DETAILS[detailType].parse(detail);
  const { FailedEntryCount, Entries = [] } = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: EVENT_SOURCE,
          DetailType: detailType,
          Detail: JSON.stringify(valid),
          EventBusName: busName,
        },
      ],
    }),
  );
  if (FailedEntryCount) {
    throw new EventNotPublishedError(
      `${detailType}: ${Entries[0]?.ErrorCode ?? 'unknown'} ${Entries[0]?.ErrorMessage ?? ''}`.trimEnd(),
    );
  }
  return Entries[0]?.EventId;
}
