import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  catalogRegions,
  FORWARDED_PATTERN,
  forwardedRegions,
  forwardingRuleName,
  forwardRegions,
  matchesPattern,
  unforwardRegions,
} from '../../../lib/forwarding/forwarding.js';
import { recipe } from '../functions/fixtures.js';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'] as const;
const clients = new Map(REGIONS.map((r) => [r, new EventBridgeClient({ region: r })] as const));
const mocks = new Map([...clients].map(([r, c]) => [r, mockClient(c)] as const));
const mock = (region: string) =>
  mocks.get(region as (typeof REGIONS)[number]) ?? mockClient(EventBridgeClient);
const events = (region: string) => {
  const client = clients.get(region as (typeof REGIONS)[number]);
  if (!client) throw new Error(`unexpected region ${region}`);
  return client;
};
const HOME_BUS = 'arn:aws:events:us-east-1:123456789012:event-bus/default';
const spec = {
  homeRegion: 'us-east-1',
  stack: 'ami-bake-ci',
  homeBusArn: HOME_BUS,
  roleArn: 'arn:aws:iam::123456789012:role/ami-bake-ci-forward',
};
const RULE = 'ami-bake-ci-forward-ec2-images';

beforeEach(() => {
  for (const m of mocks.values()) {
    m.reset();
    m.on(PutTargetsCommand).resolves({ FailedEntryCount: 0, FailedEntries: [] });
  }
});

describe('forwarding EC2 image events to the home region', () => {
  it('puts a tagged rule on the default bus of every other region, targeting the home default bus with the role', async () => {
    // Act
    const done = await forwardRegions(['us-east-1', 'eu-west-1', 'ap-southeast-2'], spec, { events });

    // Assess
    expect(done).toEqual(['eu-west-1', 'ap-southeast-2']);
    for (const region of ['eu-west-1', 'ap-southeast-2']) {
      expect(mock(region)).toHaveReceivedCommandWith(PutRuleCommand, {
        Name: RULE,
        EventPattern: JSON.stringify(FORWARDED_PATTERN),
        State: 'ENABLED',
        Tags: [{ Key: 'ami-bake:stack', Value: 'ami-bake-ci' }],
      });
      // No EventBusName: the default bus, where EC2 sends its events.
      expect(mock(region).commandCalls(PutRuleCommand)[0]?.args[0].input.EventBusName).toBeUndefined();
      expect(mock(region)).toHaveReceivedCommandWith(PutTargetsCommand, {
        Rule: RULE,
        Targets: [{ Id: 'home-default-bus', Arn: HOME_BUS, RoleArn: spec.roleArn }],
      });
    }
    expect(mock('us-east-1')).not.toHaveReceivedAnyCommand();
  });

  it('forwards the AMI states resumeWait acts on, and no instance events', () => {
    const event = (State: string, detailType = 'EC2 AMI State Change') => ({
      source: 'aws.ec2',
      'detail-type': detailType,
      detail: { ImageId: 'ami-1', State },
    });

    expect(matchesPattern(FORWARDED_PATTERN, event('available'))).toBe(true);
    expect(matchesPattern(FORWARDED_PATTERN, event('failed'))).toBe(true);
    expect(matchesPattern(FORWARDED_PATTERN, event('pending'))).toBe(false);
    expect(
      matchesPattern(FORWARDED_PATTERN, event('stopped', 'EC2 Instance State-change Notification')),
    ).toBe(false);
  });

  it('fails with the region and EventBridge reason when a target is refused', async () => {
    // Prepare
    mock('eu-west-1')
      .on(PutTargetsCommand)
      .resolves({
        FailedEntryCount: 1,
        FailedEntries: [{ TargetId: 'home-default-bus', ErrorCode: 'AccessDenied', ErrorMessage: 'no role' }],
      });

    // Act / Assess
    await expect(forwardRegions(['eu-west-1'], spec, { events })).rejects.toMatchObject({
      name: 'ForwardingError',
      message: expect.stringContaining('eu-west-1: AccessDenied: no role'),
    });
  });

  it('removes target then rule, and a rule already gone is not an error (safe to run twice)', async () => {
    // Prepare
    const gone = new ResourceNotFoundException({ message: 'Rule does not exist', $metadata: {} });
    mock('ap-southeast-2').on(RemoveTargetsCommand).rejects(gone).on(DeleteRuleCommand).rejects(gone);

    // Act
    const done = await unforwardRegions(['eu-west-1', 'ap-southeast-2', 'us-east-1'], spec, { events });

    // Assess
    expect(done).toEqual(['eu-west-1', 'ap-southeast-2']);
    expect(mock('eu-west-1')).toHaveReceivedCommandWith(RemoveTargetsCommand, {
      Rule: RULE,
      Ids: ['home-default-bus'],
    });
    expect(mock('eu-west-1')).toHaveReceivedCommandWith(DeleteRuleCommand, { Name: RULE });
  });

  it('reports as forwarded only regions with an enabled rule that targets the home bus', async () => {
    // Prepare
    mock('eu-west-1')
      .on(DescribeRuleCommand)
      .resolves({ State: 'ENABLED', EventPattern: JSON.stringify(FORWARDED_PATTERN) })
      .on(ListTargetsByRuleCommand)
      .resolves({ Targets: [{ Id: 'home-default-bus', Arn: HOME_BUS }] });
    mock('ap-southeast-2')
      .on(DescribeRuleCommand)
      .rejects(new ResourceNotFoundException({ message: 'Rule does not exist', $metadata: {} }));

    // Act
    const forwarded = await forwardedRegions(['us-east-1', 'eu-west-1', 'ap-southeast-2'], spec, { events });

    // Assess
    expect([...forwarded.keys()]).toEqual(['eu-west-1']);
    expect(forwardingRuleName('ami-bake-ci')).toBe(RULE);
  });

  it("takes its regions from the catalog: every recipe's regions and the ones a request may add", () => {
    const catalog = [
      { file: 'a.yml', recipe: recipe({ distribution: { regions: ['eu-west-1', 'us-east-1'] } }) },
      {
        file: 'b.yml',
        recipe: recipe({ distribution: { regions: ['eu-west-1'] }, overrides: { regions: ['sa-east-1'] } }),
      },
    ];

    expect(catalogRegions(catalog)).toEqual(['eu-west-1', 'sa-east-1', 'us-east-1']);
  });
});
