import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoSend } from '../aws/dynamo.js';
import { resourceKey, type WaitRecord, type WaitRequest } from './types.js';

export interface WaitStore {
  put(request: WaitRequest, now: Date): Promise<WaitRecord>;
  get(resource: string): Promise<WaitRecord | undefined>;
  delete(resource: string): Promise<void>;
  all(): Promise<WaitRecord[]>;
}

/** Task tokens live only here (encrypted at rest, TTL'd), never in logs or user data. */
export function dynamoWaitStore(db: DynamoSend, table: string): WaitStore {
  return {
    async put(request, now) {
      const deadline = new Date(now.getTime() + request.budgetSeconds * 1000);
      const record: WaitRecord = {
        ...request,
        resource: resourceKey(request.kind, request.region, request.resourceId),
        registeredAt: now.toISOString(),
        deadline: deadline.toISOString(),
        expiresAt: Math.floor(deadline.getTime() / 1000) + 86_400,
      };
      await db.send(new PutCommand({ TableName: table, Item: record }));
      return record;
    },
    async get(resource) {
      const { Item } = await db.send(
        new GetCommand({ TableName: table, Key: { resource }, ConsistentRead: true }),
      );
      return Item as WaitRecord | undefined;
    },
    async delete(resource) {
      await db.send(new DeleteCommand({ TableName: table, Key: { resource } }));
    },
    async all() {
      const records: WaitRecord[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey }));
        records.push(...((page.Items ?? []) as WaitRecord[]));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return records;
    },
  };
}
