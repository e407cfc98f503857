import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoWaitStore } from '../../../lib/waits/store.js';
import { waitRecord, waitRequest } from './fakes.js';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dbMock = mockClient(db);
const store = dynamoWaitStore(db, 'ami-bake-waits');

beforeEach(() => dbMock.reset());

describe('dynamoWaitStore', () => {
  it('stores a wait under its resource key with a deadline from its budget and a TTL a day later', async () => {
    // Prepare
    const request = waitRequest('instance-stopped', 'us-east-1', 'i-0builder00000001', {
      budgetSeconds: 1800,
    });

    // Act
    const record = await store.put(request, new Date('2026-11-26T04:00:00.000Z'));

    // Assess
    expect(record).toEqual({
      ...request,
      resource: 'instance-stopped#us-east-1#i-0builder00000001',
      registeredAt: '2026-11-26T04:00:00.000Z',
      deadline: '2026-11-26T04:30:00.000Z',
      expiresAt: Date.parse('2026-11-27T04:30:00.000Z') / 1000,
    });
    expect(dbMock).toHaveReceivedCommandWith(PutCommand, { TableName: 'ami-bake-waits', Item: record });
  });

  it('reads a wait consistently by its resource key, and deletes it by the same key', async () => {
    // Prepare
    const record = waitRecord('image-available', 'eu-west-1', 'ami-1');
    dbMock.on(GetCommand).resolves({ Item: record });

    // Act
    const found = await store.get(record.resource);
    await store.delete(record.resource);

    // Assess
    expect(found).toEqual(record);
    expect(dbMock).toHaveReceivedCommandWith(GetCommand, {
      Key: { resource: record.resource },
      ConsistentRead: true,
    });
    expect(dbMock).toHaveReceivedCommandWith(DeleteCommand, { Key: { resource: record.resource } });
  });

  it('lists every wait across scan pages', async () => {
    // Prepare
    const a = waitRecord('image-available', 'eu-west-1', 'ami-1');
    const b = waitRecord('image-available', 'eu-west-1', 'ami-2');
    dbMock
      .on(ScanCommand)
      .resolvesOnce({ Items: [a], LastEvaluatedKey: { resource: a.resource } })
      .resolvesOnce({ Items: [b] });

    // Act
    const all = await store.all();

    // Assess
    expect(all).toEqual([a, b]);
    expect(dbMock).toHaveReceivedNthCommandWith(ScanCommand, 2, {
      ExclusiveStartKey: { resource: a.resource },
    });
  });
});
