import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.js';

/**
 * SDK clients, created once per region and reused across invocations. Standard retry mode with
 * exponential backoff and jitter covers EC2's RequestLimitExceeded; AWS_MAX_ATTEMPTS raises it.
 */
type Factory<C> = (region: string) => C;

function perRegion<C>(make: Factory<C>): Factory<C> {
  const byRegion = new Map<string, C>();
  return (region) => {
    // The SDK reads AWS_ENDPOINT_URL when a client is made. In Lambda it is never set; locally it
    // names the AWS-behaviour layer, and a client made before a local bake set it must not be
    // reused to bypass the layer.
    const key = `${region} ${process.env.AWS_ENDPOINT_URL ?? ''}`;
    let client = byRegion.get(key);
    if (!client) {
      client = make(region);
      byRegion.set(key, client);
    }
    return client;
  };
}

function base(region: string) {
  return { region, maxAttempts: config().AWS_MAX_ATTEMPTS, retryMode: 'standard' as const };
}

export const ec2 = /* @__PURE__ */ perRegion((region) => new EC2Client(base(region)));
export const ssm = /* @__PURE__ */ perRegion((region) => new SSMClient(base(region)));
export const sfn = /* @__PURE__ */ perRegion((region) => new SFNClient(base(region)));
export const kms = /* @__PURE__ */ perRegion((region) => new KMSClient(base(region)));
export const events = /* @__PURE__ */ perRegion((region) => new EventBridgeClient(base(region)));
export const dynamo = /* @__PURE__ */ perRegion((region) =>
  DynamoDBDocumentClient.from(new DynamoDBClient(base(region)), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);

export type Ec2Send = Pick<EC2Client, 'send'>;
export type SsmSend = Pick<SSMClient, 'send'>;
export type SfnSend = Pick<SFNClient, 'send'>;
export type EventsSend = Pick<EventBridgeClient, 'send'>;
export type KmsSend = Pick<KMSClient, 'send'>;
export type DynamoSend = Pick<DynamoDBDocumentClient, 'send'>;
