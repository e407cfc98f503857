import { config } from '../config.js';
import { retryConfig } from './retry.js';

/**
 * What every SDK client shares: one client per region and endpoint, reused across invocations,
 * and one configuration (`base`). Each client has its own module (ec2.ts, ssm.ts, sfn.ts, kms.ts,
 * eventbridge.ts, dynamo.ts), so a function's bundle holds only the clients it calls: importing
 * one SDK client package costs its whole size and import time whether or not it is used
 * (docs/decisions/0003-lean-lambda-bundles.md). This module imports no SDK client.
 */
export type Factory<C> = (region: string) => C;

export function perRegion<C>(make: Factory<C>): Factory<C> {
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

export function base(region: string) {
  return { region, ...retryConfig(config().AWS_MAX_ATTEMPTS) };
}

// The `send` types, for cores that take a client as a dependency. Type-only: erased from bundles,
// so importing them from here pulls in no SDK client. Values come from the client's own module.
export type { DynamoSend } from './dynamo.js';
export type { Ec2Send } from './ec2.js';
export type { EventsSend } from './eventbridge.js';
export type { KmsSend } from './kms.js';
export type { SfnSend } from './sfn.js';
export type { SsmSend } from './ssm.js';
