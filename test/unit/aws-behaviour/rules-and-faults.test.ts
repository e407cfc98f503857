import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CopyImageCommand,
  CreateImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  GetConsoleOutputCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  baseImage,
  clientOptions,
  ec2Via,
  errorOf,
  fastProfile,
  imageOf,
  launch,
  sleep,
  useLayer,
} from './helpers.js';

const { layer, moto } = useLayer();

beforeEach(() => {
  layer().setProfile('instant');
  layer().clearFaults();
  layer().resetCalls();
});

/** Instances moto holds with this tag: the truth about what was created. */
async function instancesTagged(value: string): Promise<string[]> {
  const { Reservations = [] } = await ec2Via(moto()).send(
    new DescribeInstancesCommand({ Filters: [{ Name: 'tag:case', Values: [value] }] }),
  );
  return Reservations.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId ?? '');
}

const tagged = (value: string) => ({
  TagSpecifications: [{ ResourceType: 'instance' as const, Tags: [{ Key: 'case', Value: value }] }],
});

const tagsOf = (r: { Tags?: { Key?: string; Value?: string }[] } | undefined) =>
  Object.fromEntries((r?.Tags ?? []).map((t) => [t.Key, t.Value]));

describe('idempotency and names', () => {
  it('returns the first instance for a repeated ClientToken and creates only one', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const input = { ClientToken: 'launch-once', ...tagged('token') };

    const first = await launch(ec2, input);
    const second = await launch(ec2, input);

    expect(second).toBe(first);
    expect(await instancesTagged('token')).toEqual([first]);
    expect(
      layer()
        .created()
        .filter((c) => c.kind === 'instance'),
    ).toHaveLength(1);
  });

  it('answers IdempotentParameterMismatch for the same token with other parameters', async () => {
    const ec2 = ec2Via(layer().endpoint);
    await launch(ec2, { ClientToken: 'mismatch', InstanceType: 't3.micro' });

    expect(await errorOf(launch(ec2, { ClientToken: 'mismatch', InstanceType: 't3.small' }))).toEqual({
      name: 'IdempotentParameterMismatch',
      status: 400,
    });
  });

  it('returns the first copy for a repeated CopyImage ClientToken', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const source = await imageOf(ec2, await launch(ec2), `copy-source-${Date.now()}`);
    const copy = () =>
      ec2Via(layer().endpoint, 'eu-west-1').send(
        new CopyImageCommand({
          SourceImageId: source,
          SourceRegion: 'us-east-1',
          Name: 'copy-once',
          ClientToken: 't1',
        }),
      );

    const first = await copy();
    const second = await copy();

    expect(second.ImageId).toBe(first.ImageId);
    expect(
      layer()
        .created()
        .filter((c) => c.region === 'eu-west-1'),
    ).toHaveLength(1);
  });

  it('refuses a second image with the same name in a region (InvalidAMIName.Duplicate)', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const instance = await launch(ec2);
    const name = `duplicate-${Date.now()}`;
    await imageOf(ec2, instance, name);

    expect(await errorOf(imageOf(ec2, instance, name))).toEqual({
      name: 'InvalidAMIName.Duplicate',
      status: 400,
    });
  });

  it('tags the snapshots of CreateImage from a snapshot TagSpecification (moto alone answers 500)', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const { ImageId } = await ec2.send(
      new CreateImageCommand({
        InstanceId: await launch(ec2),
        Name: `snapshot-tags-${Date.now()}`,
        TagSpecifications: [
          { ResourceType: 'image', Tags: [{ Key: 'os', Value: 'al2023' }] },
          { ResourceType: 'snapshot', Tags: [{ Key: 'backup', Value: 'none' }] },
        ],
      }),
    );

    const direct = ec2Via(moto());
    const { Images = [] } = await direct.send(new DescribeImagesCommand({ ImageIds: [ImageId ?? ''] }));
    const snapshotId = Images[0]?.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId ?? '';
    const { Snapshots = [] } = await direct.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
    expect(tagsOf(Images[0])).toEqual({ os: 'al2023' });
    expect(tagsOf(Snapshots[0])).toEqual({ backup: 'none' });
  });

  it('applies CopyImage TagSpecifications to the copy and its snapshots', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const source = await imageOf(ec2, await launch(ec2), `copy-tags-${Date.now()}`);
    const { ImageId } = await ec2Via(layer().endpoint, 'ap-southeast-2').send(
      new CopyImageCommand({
        SourceImageId: source,
        SourceRegion: 'us-east-1',
        Name: 'copy-tags',
        TagSpecifications: [
          { ResourceType: 'image', Tags: [{ Key: 'os', Value: 'al2023' }] },
          { ResourceType: 'snapshot', Tags: [{ Key: 'backup', Value: 'none' }] },
        ],
      }),
    );

    const direct = ec2Via(moto(), 'ap-southeast-2');
    const { Images = [] } = await direct.send(new DescribeImagesCommand({ ImageIds: [ImageId ?? ''] }));
    const snapshotId = Images[0]?.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId ?? '';
    const { Snapshots = [] } = await direct.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
    expect(tagsOf(Images[0])).toEqual({ os: 'al2023' });
    expect(tagsOf(Snapshots[0])).toEqual({ backup: 'none' });
  });
});

describe('throttling', () => {
  it('answers RequestLimitExceeded when the bucket is empty, without forwarding, and recovers', async () => {
    // One token per local second (0.5 per AWS second at clock 2).
    const bucket = { capacity: 2, refillPerSecond: 0.5 };
    layer().setProfile(fastProfile({ clock: 2, throttle: { default: bucket } }));
    const ec2 = ec2Via(layer().endpoint);
    const describe = () => ec2.send(new DescribeInstancesCommand({}));

    await describe();
    await describe();
    expect(await errorOf(describe())).toEqual({ name: 'RequestLimitExceeded', status: 503 });
    expect(
      layer()
        .calls()
        .map((c) => c.fault),
    ).toEqual([undefined, undefined, 'throttled']);

    await sleep(1100);
    await describe();
  });
});

describe('fault rules', () => {
  it('error-before answers the error and creates nothing', async () => {
    layer().addFault({ action: 'RunInstances', effect: 'error-before' });

    expect(await errorOf(launch(ec2Via(layer().endpoint), tagged('error-before')))).toEqual({
      name: 'InternalError',
      status: 500,
    });
    expect(await instancesTagged('error-before')).toEqual([]);
    expect(layer().calls()).toContainEqual(
      expect.objectContaining({ action: 'RunInstances', status: 500, fault: 'error-before' }),
    );
  });

  it('error-after creates the instance once, then answers the error', async () => {
    layer().addFault({
      action: 'RunInstances',
      effect: 'error-after',
      error: { code: 'Unavailable', status: 503 },
    });

    expect(await errorOf(launch(ec2Via(layer().endpoint), tagged('error-after')))).toMatchObject({
      name: 'Unavailable',
    });
    expect(await instancesTagged('error-after')).toHaveLength(1);
  });

  it('drop-after creates the instance and drops the connection (a network error for the SDK)', async () => {
    layer().addFault({ action: 'RunInstances', effect: 'drop-after' });

    const failure = await errorOf(launch(ec2Via(layer().endpoint), tagged('drop-after')));

    expect(failure.status).toBeUndefined();
    expect(await instancesTagged('drop-after')).toHaveLength(1);
    expect(
      layer()
        .calls()
        .find((c) => c.action === 'RunInstances'),
    ).toMatchObject({ status: 0, fault: 'drop-after' });
  });

  it('drop-before creates nothing', async () => {
    layer().addFault({ action: 'RunInstances', effect: 'drop-before' });

    await errorOf(launch(ec2Via(layer().endpoint), tagged('drop-before')));

    expect(await instancesTagged('drop-before')).toEqual([]);
  });

  it('delay waits, then forwards', async () => {
    layer().addFault({ action: 'DescribeInstances', effect: 'delay', delayMs: 300 });
    const started = Date.now();

    await ec2Via(layer().endpoint).send(new DescribeInstancesCommand({}));

    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('hits only the listed calls of the matching action and region', async () => {
    layer().addFault({
      action: 'DescribeInstances',
      region: 'eu-west-1',
      calls: [2],
      effect: 'error-before',
    });
    const here = ec2Via(layer().endpoint, 'eu-west-1');
    const elsewhere = ec2Via(layer().endpoint, 'us-east-1');
    const describe = (c: typeof here) => c.send(new DescribeInstancesCommand({}));

    await describe(here);
    await describe(elsewhere);
    await errorOf(describe(here));
    await describe(here);

    expect(
      layer()
        .calls()
        .map((c) => [c.region, c.fault]),
    ).toEqual([
      ['eu-west-1', undefined],
      ['us-east-1', undefined],
      ['eu-west-1', 'error-before'],
      ['eu-west-1', undefined],
    ]);
  });

  it('fails PutEvents entries with failed-entry, forwarding nothing', async () => {
    layer().addFault({ service: 'events', action: 'PutEvents', effect: 'failed-entry' });
    const events = new EventBridgeClient(clientOptions(layer().endpoint));

    const result = await events.send(
      new PutEventsCommand({ Entries: [{ Source: 'test', DetailType: 'Bake Started', Detail: '{}' }] }),
    );

    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries?.[0]?.ErrorCode).toBe('ThrottlingException');
    expect(layer().calls()).toEqual([expect.objectContaining({ service: 'events', action: 'PutEvents' })]);
  });
});

describe('pass-through', () => {
  it('forwards other services unchanged (SSM, DynamoDB)', async () => {
    const ssm = new SSMClient(clientOptions(layer().endpoint));
    await ssm.send(new PutParameterCommand({ Name: '/layer/test', Value: 'v1', Type: 'String' }));
    const viaLayer = await ssm.send(new GetParameterCommand({ Name: '/layer/test' }));
    const direct = await new SSMClient(clientOptions(moto())).send(
      new GetParameterCommand({ Name: '/layer/test' }),
    );
    expect(viaLayer.Parameter).toEqual(direct.Parameter);

    const ddb = new DynamoDBClient(clientOptions(layer().endpoint));
    await ddb.send(
      new CreateTableCommand({
        TableName: 'layer',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await ddb.send(new PutItemCommand({ TableName: 'layer', Item: { pk: { S: 'a' }, n: { N: '1' } } }));
    const { Item } = await ddb.send(new GetItemCommand({ TableName: 'layer', Key: { pk: { S: 'a' } } }));
    expect(Item).toEqual({ pk: { S: 'a' }, n: { N: '1' } });
    expect(
      layer()
        .calls()
        .map((c) => `${c.service} ${c.action}`),
    ).toEqual([
      'ssm PutParameter',
      'ssm GetParameter',
      'dynamodb CreateTable',
      'dynamodb PutItem',
      'dynamodb GetItem',
    ]);
  });

  it('hands out SQS queue URLs that lead back through the layer', async () => {
    const sqs = new SQSClient(clientOptions(layer().endpoint));

    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'layer-tap' }));

    expect(new URL(QueueUrl ?? '').host).toBe(new URL(layer().endpoint).host);
  });

  it('answers GetConsoleOutput with what the played builder wrote, base64 as EC2 does', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const id = await launch(ec2);
    layer().writeConsole('us-east-1', id, 'ami-bake: bootstrap succeeded\n');

    const { Output } = await ec2.send(new GetConsoleOutputCommand({ InstanceId: id }));

    expect(Buffer.from(Output ?? '', 'base64').toString()).toBe('ami-bake: bootstrap succeeded\n');
  });

  it('records every EC2 call with its region, so tests can count calls per action', async () => {
    const ec2 = ec2Via(layer().endpoint, 'eu-west-1');
    await ec2.send(
      new RunInstancesCommand({
        ImageId: await baseImage(ec2),
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
      }),
    );

    expect(layer().calls()).toEqual([
      expect.objectContaining({ service: 'ec2', action: 'RunInstances', region: 'eu-west-1', status: 200 }),
    ]);
  });
});

describe('process', () => {
  it('does not keep a CLI process alive after its last call', () => {
    const started = Date.now();
    const child = spawnSync(
      join('node_modules', '.bin', 'tsx'),
      [join('test', 'unit', 'aws-behaviour', 'fixtures', 'one-call.ts')],
      { env: { ...process.env, UPSTREAM: moto() }, encoding: 'utf8', timeout: 20_000 },
    );

    expect(child.stdout).toBe('called\n');
    expect(child.status, child.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
