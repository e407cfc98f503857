import { SFNClient } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { DynamoSend } from '../../../lib/aws/dynamo.js';
import { dynamoWaitStore } from '../../../lib/waits/store.js';
import { resourceKey, type WaitKind, type WaitRecord, type WaitRequest } from '../../../lib/waits/types.js';

/**
 * The wait table as a Map behind the real `dynamoWaitStore`: the fake keeps the items it is given,
 * so the deadline and TTL a test sees are the ones the real code computed.
 */
export function memoryStore(initial: readonly WaitRecord[] = []) {
  const records = new Map(initial.map((r) => [r.resource, r] as const));
  const table = {
    async send(command: unknown) {
      if (command instanceof PutCommand) {
        const item = command.input.Item as WaitRecord;
        records.set(item.resource, item);
        return {};
      }
      if (command instanceof GetCommand) return { Item: records.get(String(command.input.Key?.resource)) };
      if (command instanceof DeleteCommand) {
        records.delete(String(command.input.Key?.resource));
        return {};
      }
      if (command instanceof ScanCommand) return { Items: [...records.values()] };
      throw new Error(`memoryStore: unexpected ${String(command)}`);
    },
  } as DynamoSend;
  return { store: dynamoWaitStore(table, 'ami-bake-waits'), records };
}

export function waitRequest(
  kind: WaitKind,
  region: string,
  resourceId: string,
  overrides: Partial<WaitRequest> = {},
): WaitRequest {
  return {
    taskToken: `token-for-${resourceId}`,
    kind,
    bakeId: 'bake-20261126-0001abcd',
    region,
    resourceId,
    budgetSeconds: 600,
    ...overrides,
  };
}

export function waitRecord(
  kind: WaitKind,
  region: string,
  resourceId: string,
  overrides: Partial<WaitRequest> = {},
): WaitRecord {
  const request = waitRequest(kind, region, resourceId, overrides);
  return {
    ...request,
    resource: resourceKey(kind, region, resourceId),
    registeredAt: '2026-11-26T04:40:00.000Z',
    deadline: '2026-11-26T04:50:00.000Z',
    expiresAt: 1_795_000_000,
  };
}

/** A mocked Step Functions client for SendTaskSuccess/SendTaskFailure. */
export function mockedSfn() {
  const sfn = new SFNClient({ region: 'us-east-1' });
  return { sfn, sfnMock: mockClient(sfn) };
}
