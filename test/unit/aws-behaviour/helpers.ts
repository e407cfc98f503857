import {
  CreateImageCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  type BehaviourLayer,
  type Profile,
  startBehaviourLayer,
} from '../../../local/aws-behaviour/index.js';
import { type RunningEmulator, startEmulator } from '../../../local/emulator.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A real moto with the layer in front of it, for one test file. */
export function useLayer(): { layer: () => BehaviourLayer; moto: () => string } {
  let emulator: RunningEmulator | undefined;
  let layer: BehaviourLayer | undefined;
  beforeAll(async () => {
    emulator = await startEmulator();
    motoEndpoint = emulator.endpoint;
    layer = await startBehaviourLayer({ upstream: emulator.endpoint, seed: 7 });
  });
  afterAll(async () => {
    await layer?.stop();
    await emulator?.stop();
  });
  return {
    layer: () => {
      if (!layer) throw new Error('layer not started');
      return layer;
    },
    moto: () => emulator?.endpoint ?? '',
  };
}

export function ec2Via(endpoint: string, region = 'us-east-1'): EC2Client {
  return new EC2Client({ region, endpoint, credentials, maxAttempts: 1 });
}

export const clientOptions = (endpoint: string, region = 'us-east-1') => ({
  region,
  endpoint,
  credentials,
  maxAttempts: 1,
});

/** A profile whose durations pass in tenths of a second (clock 100: 30 AWS seconds = 0.3 s). */
export function fastProfile(overrides: Partial<Profile> = {}): Profile {
  return {
    name: 'fast',
    clock: 100,
    durations: { instanceLaunch: 30, instanceStop: 30, instanceTerminate: 30, image: 30, copy: 60 },
    consistencyWindow: 0,
    events: { delay: [0, 0], duplicateProbability: 0 },
    ...overrides,
  };
}

let motoEndpoint = '';
const baseImages = new Map<string, Promise<string>>();

/** An Amazon Linux image moto knows in the region (AMI validation is on in the emulator). */
export async function baseImage(ec2: EC2Client): Promise<string> {
  const region = await ec2.config.region();
  let found = baseImages.get(region);
  if (!found) {
    // DescribeImages Owners=amazon takes seconds in moto; AWS's public SSM parameter is instant.
    const ssm = new SSMClient(clientOptions(motoEndpoint, region));
    found = ssm
      .send(
        new GetParameterCommand({
          Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
        }),
      )
      .then(({ Parameter }) => Parameter?.Value ?? '');
    baseImages.set(region, found);
  }
  return found;
}

export async function launch(ec2: EC2Client, input: Partial<RunInstancesCommandInput> = {}): Promise<string> {
  const { Instances = [] } = await ec2.send(
    new RunInstancesCommand({
      ImageId: await baseImage(ec2),
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      ...input,
    }),
  );
  const id = Instances[0]?.InstanceId;
  if (!id) throw new Error('RunInstances returned no instance');
  return id;
}

export async function imageOf(ec2: EC2Client, instanceId: string, name: string): Promise<string> {
  const { ImageId } = await ec2.send(new CreateImageCommand({ InstanceId: instanceId, Name: name }));
  if (!ImageId) throw new Error('CreateImage returned no image');
  return ImageId;
}

export async function instanceState(ec2: EC2Client, id: string): Promise<string | undefined> {
  const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return Reservations[0]?.Instances?.[0]?.State?.Name;
}

/** Polls until check passes (the machine is noisy: generous deadline, no timing assertions). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The AWS error code an SDK call failed with. */
export async function errorOf(call: Promise<unknown>): Promise<{ name: string; status?: number }> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the call should have failed').toBeInstanceOf(Error);
  const e = error as Error & { $metadata?: { httpStatusCode?: number } };
  return { name: e.name, status: e.$metadata?.httpStatusCode };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
