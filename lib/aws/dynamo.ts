import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { base, perRegion } from './clients.js';

/** DynamoDB (the wait table) as a document client, one per region (lib/aws/clients.ts). */
export const dynamo = /* @__PURE__ */ perRegion((region) =>
  DynamoDBDocumentClient.from(new DynamoDBClient(base(region)), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);

export type DynamoSend = Pick<DynamoDBDocumentClient, 'send'>;
