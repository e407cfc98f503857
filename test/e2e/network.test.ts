import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, describe, expect, it } from 'vitest';
import { RESULT_TAG_KEY } from '../../lib/bootstrap/protocol.js';
import { parseConsoleResult, wrapUserData } from '../../lib/bootstrap/wrapper.js';
import type { BehaviourLayer } from '../../local/aws-behaviour/index.js';
import { playBuilder } from '../../local/builder.js';
import { localLayer, runLocalBake } from '../../local/runner.js';
import { provisionLocalStack } from '../../local/stack.js';
import { added, inventories, recipe, tagsOf, useEmulator } from './helpers.js';

const REGION = 'us-east-1';

/** A subnet in a new VPC with no internet gateway, NAT or endpoint: nothing leaves it. */
async function isolatedSubnet(ec2: EC2Client): Promise<string> {
  const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16' }));
  const { Subnet } = await ec2.send(
    new CreateSubnetCommand({ VpcId: Vpc?.VpcId, CidrBlock: '10.99.1.0/24', AvailabilityZone: `${REGION}a` }),
  );
  return Subnet?.SubnetId ?? '';
}

describe('a builder subnet without a route to the internet', () => {
  const emulator = useEmulator();
  let layer: BehaviourLayer;
  let ec2: EC2Client;
  let subnetId: string;

  beforeAll(async () => {
    layer = await localLayer(emulator.endpoint());
    layer.setProfile('instant');
    await provisionLocalStack(REGION);
    ec2 = new EC2Client({ region: REGION, endpoint: layer.endpoint, maxAttempts: 1 });
    subnetId = await isolatedSubnet(ec2);
  });

  it('fails the bake at ResolveRecipe, naming the field and the fix, and creates nothing', async () => {
    const regions = [REGION, 'eu-west-1', 'ap-southeast-2'];
    const before = await inventories(regions);
    const r = await recipe({
      builder: { instanceType: 't3.micro', subnetId, associatePublicIp: 'auto' },
    });
    const result = await runLocalBake({ recipe: r, region: REGION });
    expect(result.status).toBe('failed');
    expect(result.failure?.stage).toBe('ResolveRecipe');
    expect(result.failure?.error).toBe('RecipeInvalidError');
    expect(result.failure?.cause).toContain('builder.subnetId');
    expect(result.failure?.cause).toContain(subnetId);
    const after = await inventories(regions);
    for (const region of regions) {
      const diff = added(before[region] as never, after[region] as never);
      expect(diff).toEqual({ liveInstances: [], images: [], snapshots: [], volumes: [] });
    }
  });

  it('the played builder cannot reach the EC2 API or mirrors: no result tag, the console says why', async () => {
    const { Parameter } = await new SSMClient({ region: REGION, endpoint: layer.endpoint }).send(
      new GetParameterCommand({
        Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      }),
    );
    const { Instances = [] } = await ec2.send(
      new RunInstancesCommand({
        ImageId: Parameter?.Value,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
        UserData: Buffer.from(
          wrapUserData({
            platform: 'linux',
            script: '#!/bin/bash\ndnf install -y nginx\n',
            bakeId: 'offline',
          }),
        ).toString('base64'),
      }),
    );
    const instanceId = Instances[0]?.InstanceId ?? '';
    let console = '';
    const played = await playBuilder(ec2, instanceId, 'succeed', { writeConsole: (t) => (console = t) });

    expect(played.outcome).toBe('failure');
    expect(parseConsoleResult(console)).toMatchObject({ outcome: 'failure', exitCode: 6 });
    expect(console).toContain('Could not resolve host');
    const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = Reservations[0]?.Instances?.[0];
    expect(tagsOf(instance)[RESULT_TAG_KEY]).toBeUndefined();
    expect(instance?.State?.Name).toBe('stopped');
  });
});
