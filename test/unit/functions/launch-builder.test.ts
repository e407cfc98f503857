import { EC2Client, RunInstancesCommand, type RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { type LaunchInput, launchBuilder } from '../../../functions/launch-builder/core.js';
import { inspectUserData } from '../../../lib/bootstrap/wrapper.js';
import type { RecipeInput } from '../../../lib/recipe/schema.js';
import { BAKE_ID, BUILD_REGION, context, LINEAGE_TAGS, now, recipe } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const deps = {
  ec2: new EC2Client({ region: BUILD_REGION }),
  instanceProfile: 'ami-bake-builder',
  securityGroupId: 'sg-0defa17000000',
  now,
};

function builder(b: Partial<RecipeInput['builder']> = {}) {
  return recipe({ builder: { instanceType: 't3.small', ...b } });
}

/** Launches and returns what RunInstances was asked for. */
async function launch(input: LaunchInput, d: Partial<typeof deps> = {}): Promise<RunInstancesCommandInput> {
  await launchBuilder(input, { ...deps, ...d });
  const calls = ec2Mock.commandCalls(RunInstancesCommand);
  expect(calls).toHaveLength(1);
  return calls[0]?.args[0].input as RunInstancesCommandInput;
}

beforeEach(() => {
  ec2Mock.reset();
  ec2Mock.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0builder00000001' }] });
});

describe('launchBuilder', () => {
  it('returns the builder instance, its region and the time', async () => {
    // Act
    const result = await launchBuilder({ recipe: recipe(), context: context() }, deps);

    // Assess
    expect(result).toEqual({
      instanceId: 'i-0builder00000001',
      region: BUILD_REGION,
      at: '2026-11-26T04:47:42.123Z',
      instanceType: 't3.small',
      market: 'on-demand',
    });
  });

  it('launches one builder from the base image with IMDSv2 required and stop on shutdown', async () => {
    // Act
    const input = await launch({ recipe: recipe(), context: context() });

    // Assess
    expect(input).toMatchObject({
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 't3.small',
      MinCount: 1,
      MaxCount: 1,
      InstanceInitiatedShutdownBehavior: 'stop',
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
    });
  });

  it('launches in the subnet ResolveRecipe checked, with the public IP it decided', async () => {
    // Prepare
    const network = { subnetId: 'subnet-0c0ecced0000001', publicIp: true, via: 'internet-gateway' };

    // Act
    const input = await launch({ recipe: recipe(), context: context({ network }) });

    // Assess
    expect(input.NetworkInterfaces?.[0]).toMatchObject({
      SubnetId: 'subnet-0c0ecced0000001',
      AssociatePublicIpAddress: true,
    });
  });

  it('follows the recipe when the context has no network decision (an execution started before there was one): a public IP only for true', async () => {
    // Act
    const byDefault = await launch({ recipe: recipe(), context: context() });
    ec2Mock.resetHistory();
    const asked = await launch({
      recipe: builder({ associatePublicIp: true, subnetId: 'subnet-0ecc1e000000001' }),
      context: context(),
    });

    // Assess
    expect(byDefault.NetworkInterfaces?.[0]?.AssociatePublicIpAddress).toBe(false);
    expect(byDefault.NetworkInterfaces?.[0]?.SubnetId).toBeUndefined();
    expect(asked.NetworkInterfaces?.[0]).toMatchObject({
      SubnetId: 'subnet-0ecc1e000000001',
      AssociatePublicIpAddress: true,
    });
  });

  it("encrypts builder volumes with the build region's key from distribution.kmsKeyIds unless a volume names its own", async () => {
    // Act
    const input = await launch({
      recipe: builder({
        volumes: {
          ebs: [
            { deviceName: '/dev/sdb', sizeGiB: 10, kmsKeyId: 'alias/data' },
            { deviceName: '/dev/sdc', sizeGiB: 10, encrypted: false },
          ],
        },
      }),
      context: context({ buildKmsKeyId: 'alias/ami-bake' }),
    });

    // Assess
    expect(input.BlockDeviceMappings?.map((m) => [m.DeviceName, m.Ebs?.Encrypted, m.Ebs?.KmsKeyId])).toEqual([
      ['/dev/xvda', true, 'alias/ami-bake'],
      ['/dev/sdb', true, 'alias/data'],
      ['/dev/sdc', false, undefined],
    ]);
  });

  it("gives the builder an encrypted root volume of the base image's size when the recipe names none", async () => {
    // Act
    const input = await launch({
      recipe: recipe(),
      context: context({ base: { ...context().base, rootVolumeSizeGiB: 30 } }),
    });

    // Assess
    expect(input.BlockDeviceMappings).toEqual([
      {
        DeviceName: '/dev/xvda',
        Ebs: expect.objectContaining({
          VolumeSize: 30,
          VolumeType: 'gp3',
          Encrypted: true,
          DeleteOnTermination: true,
        }),
      },
    ]);
  });

  it('uses the recipe root size and deletes every EBS volume with the instance', async () => {
    // Act
    const input = await launch({
      recipe: builder({
        volumes: {
          root: { sizeGiB: 40, type: 'io2', iops: 3000 },
          ebs: [{ deviceName: '/dev/sdb', sizeGiB: 100, encrypted: false }],
          instanceStore: [{ deviceName: '/dev/sdc', virtualName: 'ephemeral0' }],
        },
      }),
      context: context(),
    });

    // Assess
    const ebs = (input.BlockDeviceMappings ?? []).filter((m) => m.Ebs);
    expect(ebs).toHaveLength(2);
    expect(ebs.every((m) => m.Ebs?.DeleteOnTermination === true)).toBe(true);
    expect(ebs[0]).toEqual({
      DeviceName: '/dev/xvda',
      Ebs: expect.objectContaining({ VolumeSize: 40, VolumeType: 'io2', Iops: 3000, Encrypted: true }),
    });
    expect(ebs[1]).toEqual({
      DeviceName: '/dev/sdb',
      Ebs: expect.objectContaining({ VolumeSize: 100, Encrypted: false }),
    });
    expect(input.BlockDeviceMappings).toContainEqual({ DeviceName: '/dev/sdc', VirtualName: 'ephemeral0' });
  });

  it('tags the instance and its volumes at launch with the four lineage tags and the builder role', async () => {
    // Act
    const input = await launch({ recipe: builder({ tags: { team: 'platform' } }), context: context() });

    // Assess
    expect(input.TagSpecifications?.map((s) => s.ResourceType).sort()).toEqual(['instance', 'volume']);
    for (const spec of input.TagSpecifications ?? []) {
      expect(spec.Tags).toEqual(
        expect.arrayContaining([
          ...LINEAGE_TAGS,
          { Key: 'ami-bake:role', Value: 'builder' },
          { Key: 'team', Value: 'platform' },
          { Key: 'Name', Value: 'ami-bake builder web 0001abcd' },
        ]),
      );
    }
  });

  it('derives the client token from the bake id, so a retried launch returns the first builder', async () => {
    // Act
    const first = await launch({ recipe: recipe(), context: context() });
    ec2Mock.resetHistory();
    const retried = await launch({ recipe: recipe(), context: context() });
    ec2Mock.resetHistory();
    const other = await launch({ recipe: recipe(), context: context({ bakeId: 'bake-20261126-0002ffff' }) });

    // Assess
    expect(first.ClientToken).toMatch(/^ami-bake-[0-9a-f]{40}$/);
    expect(retried.ClientToken).toBe(first.ClientToken);
    expect(other.ClientToken).not.toBe(first.ClientToken);
    expect(first.ClientToken?.length).toBeLessThanOrEqual(64);
  });

  it('sends the wrapped bootstrap as base64 user data, carrying the bake id and the script', async () => {
    // Prepare
    const script = '#!/bin/bash\ndnf install -y nginx\n';

    // Act
    const input = await launch({ recipe: recipe({ bootstrap: { script } }), context: context() });

    // Assess
    const userData = Buffer.from(input.UserData ?? '', 'base64').toString('utf8');
    expect(inspectUserData(userData)).toMatchObject({
      platform: 'linux',
      bakeId: BAKE_ID,
      userScript: script,
    });
  });

  it("has the builder fetch the recipe's bootstrap.secrets: their names are in the user data, to be read on the instance", async () => {
    // Prepare
    const secrets = [{ parameter: '/ami-bake/web/db-password', env: 'DB_PASSWORD' }];

    // Act
    const input = await launch({
      recipe: recipe({ bootstrap: { script: 'true', secrets } }),
      context: context(),
    });

    // Assess
    const userData = Buffer.from(input.UserData ?? '', 'base64').toString('utf8');
    expect(userData).toContain("ab_secret ssm \"$AB_REGION\" '/ami-bake/web/db-password' env 'DB_PASSWORD'");
  });

  it('never puts a task token from the state into the user data', async () => {
    // Prepare: the state a launch sees may carry a token; nothing of it belongs on the instance.
    const taskToken = 'AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token';
    const input = { recipe: recipe(), context: context(), taskToken } as LaunchInput;

    // Act
    const sent = await launch(input);

    // Assess
    const userData = Buffer.from(sent.UserData ?? '', 'base64').toString('utf8');
    expect(userData).not.toContain(taskToken);
    expect(JSON.stringify(sent)).not.toContain(taskToken);
  });

  it("uses the recipe's security groups instead of the stack default", async () => {
    // Act
    const own = await launch({
      recipe: builder({ securityGroupIds: ['sg-0ec1be00000001'] }),
      context: context(),
    });
    ec2Mock.resetHistory();
    const fallback = await launch({ recipe: recipe(), context: context() });

    // Assess
    expect(own.NetworkInterfaces?.[0]?.Groups).toEqual(['sg-0ec1be00000001']);
    expect(fallback.NetworkInterfaces?.[0]?.Groups).toEqual(['sg-0defa17000000']);
  });

  it('passes the instance profile by ARN or by name, the recipe one first', async () => {
    // Act
    const byName = await launch({ recipe: recipe(), context: context() });
    ec2Mock.resetHistory();
    const arn = 'arn:aws:iam::123456789012:instance-profile/custom';
    const byArn = await launch({ recipe: builder({ instanceProfile: arn }), context: context() });

    // Assess
    expect(byName.IamInstanceProfile).toEqual({ Name: 'ami-bake-builder' });
    expect(byArn.IamInstanceProfile).toEqual({ Arn: arn });
  });

  it('fails when RunInstances returns no instance', async () => {
    // Prepare
    ec2Mock.on(RunInstancesCommand).resolves({ Instances: [] });

    // Act / Assess
    await expect(launchBuilder({ recipe: recipe(), context: context() }, deps)).rejects.toThrow(
      /no instance/,
    );
  });
});

describe('launchBuilder: capacity fallback', () => {
  const capacity = (code: string) => Object.assign(new Error(`${code} for this type`), { name: code });
  const candidates = context({ instanceTypes: ['m7i.large', 'm6i.large', 'm5.large'] });

  function refuse(types: Record<string, string>) {
    for (const [type, code] of Object.entries(types))
      ec2Mock.on(RunInstancesCommand, { InstanceType: type as never }).rejects(capacity(code));
  }

  it('launches the next candidate when EC2 has no capacity for the first, and says why', async () => {
    // Prepare
    refuse({ 'm7i.large': 'InsufficientInstanceCapacity' });

    // Act
    const result = await launchBuilder({ recipe: recipe(), context: candidates }, deps);

    // Assess
    expect(result).toMatchObject({ instanceType: 'm6i.large', market: 'on-demand' });
    expect(result.attempts).toEqual([
      {
        instanceType: 'm7i.large',
        market: 'on-demand',
        error: 'InsufficientInstanceCapacity',
        message: 'InsufficientInstanceCapacity for this type',
      },
    ]);
    expect(ec2Mock.commandCalls(RunInstancesCommand).map((c) => c.args[0].input.InstanceType)).toEqual([
      'm7i.large',
      'm6i.large',
    ]);
  });

  it('moves on for a type the zone does not support and for instance or vCPU quotas', async () => {
    // Prepare
    refuse({ 'm7i.large': 'Unsupported', 'm6i.large': 'VcpuLimitExceeded' });

    // Act
    const result = await launchBuilder({ recipe: recipe(), context: candidates }, deps);

    // Assess
    expect(result.instanceType).toBe('m5.large');
    expect(result.attempts?.map((a) => a.error)).toEqual(['Unsupported', 'VcpuLimitExceeded']);
  });

  it('gives each candidate its own ClientToken, the same on every retry, the first as before candidates', async () => {
    // Prepare
    refuse({ 'm7i.large': 'InsufficientInstanceCapacity' });
    const single = await launch({ recipe: recipe(), context: context() });
    ec2Mock.resetHistory();

    // Act
    await launchBuilder({ recipe: recipe(), context: candidates }, deps);
    const first = ec2Mock.commandCalls(RunInstancesCommand).map((c) => c.args[0].input.ClientToken);
    ec2Mock.resetHistory();
    await launchBuilder({ recipe: recipe(), context: candidates }, deps);
    const retried = ec2Mock.commandCalls(RunInstancesCommand).map((c) => c.args[0].input.ClientToken);

    // Assess
    expect(first).toHaveLength(2);
    expect(new Set(first).size).toBe(2);
    expect(retried).toEqual(first);
    expect(first[0]).toBe(single.ClientToken);
  });

  it('fails with BuilderCapacityError listing every refusal when no candidate launches', async () => {
    // Prepare
    refuse({
      'm7i.large': 'InsufficientInstanceCapacity',
      'm6i.large': 'InsufficientInstanceCapacity',
      'm5.large': 'Unsupported',
    });

    // Act
    const error = await launchBuilder({ recipe: recipe(), context: candidates }, deps).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toMatchObject({ name: 'BuilderCapacityError' });
    expect((error as Error).message).toBe(
      'EC2 refused every candidate type: m7i.large (InsufficientInstanceCapacity), m6i.large (InsufficientInstanceCapacity), m5.large (Unsupported)',
    );
  });

  it('stops before a candidate it has no time left for, so the state machine retries the walk', async () => {
    // Prepare
    refuse({ 'm7i.large': 'InsufficientInstanceCapacity' });
    const remainingMs = () => 10_000;

    // Act
    const error = await launchBuilder(
      { recipe: recipe(), context: candidates },
      { ...deps, remainingMs },
    ).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({
      name: 'BuilderCapacityError',
      message:
        'EC2 refused m7i.large (InsufficientInstanceCapacity), and the launch ran out of time before m6i.large, m5.large',
    });
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(1);
  });

  it('does not try another type for an error every type would meet', async () => {
    // Prepare
    refuse({ 'm7i.large': 'UnauthorizedOperation' });

    // Act / Assess
    await expect(launchBuilder({ recipe: recipe(), context: candidates }, deps)).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
    });
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(1);
  });
});

describe('launchBuilder: Spot with on-demand fallback (builder.spot)', () => {
  const refusal = (code: string) => Object.assign(new Error(`${code} on Spot`), { name: code });
  const candidates = context({ instanceTypes: ['m7i.large', 'm6i.large'] });
  const spotRecipe = (spot: Record<string, unknown> = {}) =>
    recipe({ builder: { instanceType: 'm7i.large', spot } });
  const tries = () =>
    ec2Mock
      .commandCalls(RunInstancesCommand)
      .map((c) => [
        c.args[0].input.InstanceType,
        c.args[0].input.InstanceMarketOptions?.MarketType ?? 'on-demand',
      ]);

  function refuseSpot(code: string) {
    ec2Mock
      .on(RunInstancesCommand, { InstanceMarketOptions: { MarketType: 'spot' } }, false)
      .rejects(refusal(code));
  }

  it('launches on a persistent Spot request that stops on interruption, tagged like the builder, and reports spot', async () => {
    // Act
    const result = await launchBuilder(
      { recipe: spotRecipe({ maxPrice: '0.05' }), context: context() },
      deps,
    );

    // Assess
    expect(result).toMatchObject({
      instanceId: 'i-0builder00000001',
      instanceType: 'm7i.large',
      market: 'spot',
    });
    expect(result.attempts).toBeUndefined();
    const input = ec2Mock.commandCalls(RunInstancesCommand)[0]?.args[0].input;
    expect(input?.InstanceMarketOptions).toEqual({
      MarketType: 'spot',
      SpotOptions: { SpotInstanceType: 'persistent', InstanceInterruptionBehavior: 'stop', MaxPrice: '0.05' },
    });
    expect(input?.InstanceInitiatedShutdownBehavior).toBe('stop');
    const specs = input?.TagSpecifications ?? [];
    expect(specs.map((s) => s.ResourceType)).toEqual(['instance', 'volume', 'spot-instances-request']);
    expect(specs[2]?.Tags).toEqual(specs[0]?.Tags);
  });

  it('leaves MaxPrice to EC2 (the on-demand price) when the recipe names none', async () => {
    // Act
    await launchBuilder({ recipe: spotRecipe(), context: context() }, deps);

    // Assess
    const input = ec2Mock.commandCalls(RunInstancesCommand)[0]?.args[0].input;
    expect(input?.InstanceMarketOptions?.SpotOptions).toEqual({
      SpotInstanceType: 'persistent',
      InstanceInterruptionBehavior: 'stop',
    });
  });

  it.each([
    'InsufficientInstanceCapacity',
    'InsufficientCapacity',
    'UnfulfillableCapacity',
    'SpotMaxPriceTooLow',
    'MaxSpotInstanceCountExceeded',
    // A fresh account where the Spot service-linked role could not be created (an SCP, say).
    'AuthFailure.ServiceLinkedRoleCreationNotPermitted',
  ])('falls back to on-demand of the same type when EC2 refuses Spot with %s, and says why', async (code) => {
    // Prepare
    refuseSpot(code);

    // Act
    const result = await launchBuilder({ recipe: spotRecipe(), context: candidates }, deps);

    // Assess
    expect(result).toMatchObject({ instanceType: 'm7i.large', market: 'on-demand' });
    expect(result.attempts).toEqual([
      { instanceType: 'm7i.large', market: 'spot', error: code, message: `${code} on Spot` },
    ]);
    expect(tries()).toEqual([
      ['m7i.large', 'spot'],
      ['m7i.large', 'on-demand'],
    ]);
  });

  it('gives the Spot and on-demand launches of a type their own ClientTokens, the same on a retry', async () => {
    // Prepare
    refuseSpot('InsufficientInstanceCapacity');

    // Act
    await launchBuilder({ recipe: spotRecipe(), context: candidates }, deps);
    const first = ec2Mock.commandCalls(RunInstancesCommand).map((c) => c.args[0].input.ClientToken);
    ec2Mock.resetHistory();
    await launchBuilder({ recipe: spotRecipe(), context: candidates }, deps);
    const retried = ec2Mock.commandCalls(RunInstancesCommand).map((c) => c.args[0].input.ClientToken);

    // Assess
    expect(new Set(first).size).toBe(2);
    expect(retried).toEqual(first);
  });

  it('tries the next candidate on Spot when the recipe forbids on-demand, and fails with every refusal', async () => {
    // Prepare
    refuseSpot('SpotMaxPriceTooLow');

    // Act
    const error = await launchBuilder(
      { recipe: spotRecipe({ fallbackToOnDemand: false, maxPrice: '0.001' }), context: candidates },
      deps,
    ).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({
      name: 'BuilderCapacityError',
      message:
        'EC2 refused every candidate type: m7i.large on Spot (SpotMaxPriceTooLow), m6i.large on Spot (SpotMaxPriceTooLow)',
    });
    expect(tries()).toEqual([
      ['m7i.large', 'spot'],
      ['m6i.large', 'spot'],
    ]);
  });

  it('does not fall back for an error on-demand would meet too', async () => {
    // Prepare
    refuseSpot('UnauthorizedOperation');

    // Act / Assess
    await expect(launchBuilder({ recipe: spotRecipe(), context: candidates }, deps)).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
    });
    expect(tries()).toEqual([['m7i.large', 'spot']]);
  });

  it('launches on-demand only without builder.spot, where a Spot error code is no capacity refusal', async () => {
    // Prepare: without builder.spot a Spot error code is not a capacity refusal.
    ec2Mock.on(RunInstancesCommand).rejects(refusal('SpotMaxPriceTooLow'));

    // Act / Assess
    await expect(launchBuilder({ recipe: recipe(), context: candidates }, deps)).rejects.toMatchObject({
      name: 'SpotMaxPriceTooLow',
    });
    expect(tries()).toEqual([['m7i.large', 'on-demand']]);
  });
});
