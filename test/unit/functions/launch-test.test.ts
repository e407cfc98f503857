import { EC2Client, RunInstancesCommand, type RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { type LaunchTestInput, launchTest } from '../../../functions/launch-test/core.js';
import { inspectUserData } from '../../../lib/bootstrap/wrapper.js';
import { TAG } from '../../../lib/tags.js';
import { awsError, BAKE_ID, BUILD_REGION, context, LINEAGE_TAGS, now, recipe } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const deps = {
  ec2: new EC2Client({ region: BUILD_REGION }),
  instanceProfile: 'ami-bake-builder',
  securityGroupId: 'sg-0defa17000000',
  now,
};
const IMAGE = { imageId: 'ami-0new0000000000001', region: BUILD_REGION };
const TEST_SCRIPT = '#!/bin/bash\nsystemctl is-active --quiet nginx\n';

function input(overrides: Partial<LaunchTestInput> = {}): LaunchTestInput {
  return {
    test: { instanceType: 'm5.large' },
    recipe: recipe({ test: { script: TEST_SCRIPT } }),
    context: context({ network: { subnetId: 'subnet-0abc00000000000a', publicIp: true } }),
    image: IMAGE,
    ...overrides,
  };
}

async function launched(i: LaunchTestInput): Promise<RunInstancesCommandInput> {
  await launchTest(i, deps);
  const calls = ec2Mock.commandCalls(RunInstancesCommand);
  expect(calls).toHaveLength(1);
  return calls[0]?.args[0].input as RunInstancesCommandInput;
}

beforeEach(() => {
  ec2Mock.reset();
  ec2Mock.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0test000000000001' }] });
});

describe('launchTest', () => {
  it('returns the test instance, its type, region and the launch time', async () => {
    // Act
    const result = await launchTest(input(), deps);

    // Assess
    expect(result).toEqual({
      instanceId: 'i-0test000000000001',
      instanceType: 'm5.large',
      region: BUILD_REGION,
      at: '2026-11-26T04:47:42.123Z',
    });
  });

  it('launches one instance of the type from the new image, IMDSv2 only, stopping on shutdown, in the builder network', async () => {
    // Act
    const run = await launched(input());

    // Assess
    expect(run).toMatchObject({
      ImageId: IMAGE.imageId,
      InstanceType: 'm5.large',
      MinCount: 1,
      MaxCount: 1,
      InstanceInitiatedShutdownBehavior: 'stop',
      MetadataOptions: { HttpTokens: 'required' },
      IamInstanceProfile: { Name: 'ami-bake-builder' },
      NetworkInterfaces: [
        {
          SubnetId: 'subnet-0abc00000000000a',
          Groups: ['sg-0defa17000000'],
          AssociatePublicIpAddress: true,
          DeleteOnTermination: true,
        },
      ],
    });
    // The image's own block devices: encrypted like its snapshots, deleted with the instance.
    expect(run.BlockDeviceMappings).toBeUndefined();
  });

  it('runs the test script through the bootstrap wrapper, which reports the outcome by tagging its instance', async () => {
    // Act
    const run = await launched(input());

    // Assess
    const userData = inspectUserData(Buffer.from(run.UserData ?? '', 'base64').toString('utf8'));
    expect(userData).toMatchObject({
      platform: 'linux',
      format: 'shell',
      bakeId: BAKE_ID,
      userScript: TEST_SCRIPT,
    });
  });

  it('tags the instance and its volumes at launch with the bake lineage and role test, so cleanup finds them', async () => {
    // Act
    const run = await launched(input());

    // Assess
    for (const spec of run.TagSpecifications ?? []) {
      expect(spec.Tags).toEqual(expect.arrayContaining([...LINEAGE_TAGS, { Key: TAG.role, Value: 'test' }]));
    }
    expect(run.TagSpecifications?.map((s) => s.ResourceType)).toEqual(['instance', 'volume']);
  });

  it('gives a retried launch of the same type the same client token, and each type its own', async () => {
    // Act
    await launchTest(input(), deps);
    await launchTest(input(), deps);
    await launchTest(input({ test: { instanceType: 't3.micro' } }), deps);

    // Assess
    const tokens = ec2Mock.commandCalls(RunInstancesCommand).map((c) => c.args[0].input.ClientToken);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[0]);
  });

  it('tests on the type the builder ran on when the recipe lists none', async () => {
    // Act
    const run = await launched(input({ test: {}, builder: { instanceType: 'c7i.large' } }));

    // Assess
    expect(run.InstanceType).toBe('c7i.large');
  });

  it('names the instance type in a failure, keeping the error name Retry and Catch match', async () => {
    // Prepare
    ec2Mock
      .on(RunInstancesCommand)
      .rejects(awsError('InsufficientInstanceCapacity', 'no capacity in us-east-1a'));

    // Act
    const error = await launchTest(input(), deps).catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({
      name: 'InsufficientInstanceCapacity',
      message: 'test on m5.large: no capacity in us-east-1a',
    });
  });
});
