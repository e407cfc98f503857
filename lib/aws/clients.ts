import { config } from '../config.js';
import { retryConfig } from './retry.js';

/**
 * What every SDK client shares: one client per region and endpoint, reused across invocations,
 * and one configuration (`base`). Each client has its own module (ec2.ts, ssm.ts, sfn.ts, kms.ts,
 * eventbridge.ts, dynamo.ts, autoscaling.ts), so a function's bundle holds only the clients it calls: importing
 * one SDK client package costs its whole size and import time whether or not it is used
 * (docs/decisions/0003-lean-lambda-bundles.md). This module imports no SDK client.
 */
export type Factory<C> = (region: string) => C;

/** What each new client goes through: X-Ray capture inside a Lambda (lib/handler.ts sets it). */
let wrapClient: <C>(client: C) => C = (client) => client;

/** Called once by the Lambda middy stack, so this module (and the CLI) never loads the tracer. */
export function wrapNewClients(wrap: <C>(client: C) => C): void {
  wrapClient = wrap;
}

export function perRegion<C>(make: Factory<C>): Factory<C> {
  const byRegion = new Map<string, C>();
  return (region) => {
    // The SDK reads AWS_ENDPOINT_URL when a client is made. In Lambda it is never set; locally it
    // names the AWS-behaviour layer, and a client made before a local bake set it must not be
    // reused to bypass the layer.
    const key = `${region} ${process.env.AWS_ENDPOINT_URL ?? ''}`;
    let client = byRegion.get(key);
    if (!client) {
      client = wrapClient(make(region));
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
export type { AutoScalingSend } from './autoscaling.js';
export type { DynamoSend } from './dynamo.js';
export type { Ec2Send } from './ec2.js';
export type { EventsSend } from './eventbridge.js';
export type { KmsSend } from './kms.js';
export type { SfnSend } from './sfn.js';
export type { SsmSend } from './ssm.js';
