import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { WaitStore } from '../../../lib/waits/store.js';
import { resourceKey, type WaitKind, type WaitRecord, type WaitRequest } from '../../../lib/waits/types.js';

/** An in-memory WaitStore: the DynamoDB table as a Map, so tests can see what is still waiting. */
export function memoryStore(initial: readonly WaitRecord[] = []) {
  const records = new Map(initial.map((r) => [r.resource, r] as const));
  const store: WaitStore = {
    async put(request, now) {
      const deadline = new Date(now.getTime() + request.budgetSeconds * 1000);
      const record: WaitRecord = {
        ...request,
        resource: resourceKey(request.kind, request.region, request.resourceId),
        registeredAt: now.toISOString(),
        deadline: deadline.toISOString(),
        expiresAt: Math.floor(deadline.getTime() / 1000) + 86_400,
      };
      records.set(record.resource, record);
      return record;
    },
    async get(resource) {
      return records.get(resource);
    },
    async delete(resource) {
      records.delete(resource);
    },
    async all() {
      return [...records.values()];
    },
  };
  return { store, records };
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
