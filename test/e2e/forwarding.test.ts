import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../lib/logger.js';
import { PROFILES, type Profile } from '../../local/aws-behaviour/index.js';
import { type LocalBakeResult, runLocalBake } from '../../local/runner.js';
import { recipe, useEmulator } from './helpers.js';

const HOME = 'us-east-1';
const COPIES = ['eu-west-1', 'ap-southeast-2'];

/**
 * Copies take AWS time (so registerWait's own check finds them pending and only an event or the
 * reconciler can answer), and the reconciler runs every 10 AWS minutes: far later than this bake
 * ends, so a copy wait answered during the bake was answered by its forwarded EC2 event.
 */
const PROFILE: Profile = {
  ...PROFILES.instant,
  name: 'forwarding-e2e',
  clock: 60,
  durations: { instanceLaunch: 0, instanceStop: 5, instanceTerminate: 0, image: 10, copy: 30 },
  events: { delay: [1, 1], duplicateProbability: 0 },
};

describe('a three-region bake whose copy regions forward their EC2 image events to the home region', () => {
  useEmulator();
  let result: LocalBakeResult;
  const reconciled: string[] = [];
  const resumed: { resource: string; answered: boolean }[] = [];

  beforeAll(async () => {
    process.env.AMI_BAKE_LOCAL_RECONCILE_SECONDS = '600';
    // The two paths that answer a wait say so in their log lines (functions/*/core.ts).
    vi.spyOn(logger, 'warn').mockImplementation((message, ...rest) => {
      if (message === 'wait answered by the reconciler, not by an event')
        reconciled.push(String((rest[0] as { resource?: string })?.resource));
    });
    vi.spyOn(logger, 'info').mockImplementation((message, ...rest) => {
      if (message === 'EC2 event handled') resumed.push(rest[0] as { resource: string; answered: boolean });
    });
    result = await runLocalBake({ recipe: await recipe(), region: HOME, profile: PROFILE });
  }, 120_000);

  afterAll(() => {
    delete process.env.AMI_BAKE_LOCAL_RECONCILE_SECONDS;
    vi.restoreAllMocks();
  });

  it('succeeds with an image in every region', () => {
    expect(result.status, JSON.stringify(result.failure)).toBe('succeeded');
    expect(Object.keys(result.images).sort()).toEqual([HOME, ...COPIES].sort());
  });

  it.each(COPIES)('answers the copy wait in %s with the forwarded event, not the reconciler', (region) => {
    const copy = `image-available#${region}#${result.images[region]?.imageId}`;

    expect(resumed.filter((r) => r.resource === copy && r.answered)).not.toEqual([]);
    expect(reconciled).not.toContain(copy);
  });

  it.each(COPIES)(
    'has the stack forwarding rule in %s, tagged, targeting the home default bus',
    async (region) => {
      const events = new EventBridgeClient({ region, maxAttempts: 1 });
      const rule = await events.send(new DescribeRuleCommand({ Name: 'ami-bake-local-forward-ec2-images' }));
      const { Targets = [] } = await events.send(
        new ListTargetsByRuleCommand({ Rule: 'ami-bake-local-forward-ec2-images' }),
      );

      expect(rule.State).toBe('ENABLED');
      expect(JSON.parse(rule.EventPattern ?? '{}')).toMatchObject({
        'detail-type': ['EC2 AMI State Change'],
      });
      expect(Targets.map((t) => t.Arn)).toEqual([`arn:aws:events:${HOME}:123456789012:event-bus/default`]);
    },
  );

  it('puts no forwarding rule in the home region, whose events already reach its bus', async () => {
    const events = new EventBridgeClient({ region: HOME, maxAttempts: 1 });

    await expect(
      events.send(new DescribeRuleCommand({ Name: 'ami-bake-local-forward-ec2-images' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
