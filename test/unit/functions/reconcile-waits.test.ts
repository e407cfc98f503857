import { DescribeImagesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { reconcileWaits } from '../../../functions/reconcile-waits/core.js';
import { logger } from '../../../lib/logger.js';
import { captureEmf } from '../emf.js';
import { memoryStore, mockedSfn, waitRecord } from '../waits/fakes.js';
import { now, regionalEc2 } from './fixtures.js';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'] as const;
const { ec2, mock: ec2Mock } = regionalEc2(REGIONS);
const { sfn, sfnMock } = mockedSfn();

beforeEach(() => {
  for (const r of REGIONS) ec2Mock(r).reset();
  sfnMock.reset();
  vi.restoreAllMocks();
});

describe('reconcileWaits', () => {
  it('answers the waits whose event was missed and reports how many still wait', async () => {
    // Prepare
    const { store, records } = memoryStore([
      waitRecord('image-available', 'eu-west-1', 'ami-done'),
      waitRecord('image-available', 'eu-west-1', 'ami-busy'),
      waitRecord('instance-stopped', 'us-east-1', 'i-running'),
    ]);
    ec2Mock('eu-west-1')
      .on(DescribeImagesCommand)
      .resolves({
        Images: [
          { ImageId: 'ami-done', State: 'available' },
          { ImageId: 'ami-busy', State: 'pending' },
        ],
      });
    ec2Mock('us-east-1')
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-running', State: { Name: 'running' } }] }] });

    // Act
    const result = await reconcileWaits({ store, sfn, ec2, now });

    // Assess
    expect(result).toEqual({
      waiting: 3,
      answered: 1,
      pending: 2,
      answeredResources: ['image-available#eu-west-1#ami-done'],
      errors: [],
      overBudget: [],
    });
    expect([...records.keys()].sort()).toEqual([
      'image-available#eu-west-1#ami-busy',
      'instance-stopped#us-east-1#i-running',
    ]);
  });

  it("still answers the other regions' waits when one region's Describe fails, and reports that region's error", async () => {
    // Prepare
    const { store, records } = memoryStore([
      waitRecord('image-available', 'eu-west-1', 'ami-eu'),
      waitRecord('image-available', 'ap-southeast-2', 'ami-ap'),
      waitRecord('image-available', 'us-east-1', 'ami-us'),
    ]);
    const outage = Object.assign(new Error('EC2 is unavailable in this region'), { name: 'Unavailable' });
    ec2Mock('eu-west-1').on(DescribeImagesCommand).rejects(outage);
    ec2Mock('ap-southeast-2')
      .on(DescribeImagesCommand)
      .resolves({ Images: [{ ImageId: 'ami-ap', State: 'available' }] });
    ec2Mock('us-east-1')
      .on(DescribeImagesCommand)
      .resolves({ Images: [{ ImageId: 'ami-us', State: 'available' }] });
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);

    // Act
    const result = await reconcileWaits({ store, sfn, ec2, now });

    // Assess
    expect(result.answeredResources.sort()).toEqual([
      'image-available#ap-southeast-2#ami-ap',
      'image-available#us-east-1#ami-us',
    ]);
    expect(result.pending).toBe(1);
    expect(result.errors).toEqual([
      {
        region: 'eu-west-1',
        kind: 'image-available',
        waits: 1,
        error: 'Unavailable: EC2 is unavailable in this region',
      },
    ]);
    expect([...records.keys()]).toEqual(['image-available#eu-west-1#ami-eu']);
    expect(logged).toHaveBeenCalledWith(
      expect.stringContaining('eu-west-1'),
      expect.objectContaining({ region: 'eu-west-1', errorName: 'Unavailable' }),
    );
  });

  it('logs each wait it answered, since that wait missed its event (or its region is not forwarded)', async () => {
    // Prepare
    const { store } = memoryStore([waitRecord('image-available', 'ap-southeast-2', 'ami-ap')]);
    ec2Mock('ap-southeast-2')
      .on(DescribeImagesCommand)
      .resolves({ Images: [{ ImageId: 'ami-ap', State: 'available' }] });
    const logged = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);

    // Act
    await reconcileWaits({ store, sfn, ec2, now });

    // Assess
    expect(logged).toHaveBeenCalledWith(
      'wait answered by the reconciler, not by an event',
      expect.objectContaining({
        resource: 'image-available#ap-southeast-2#ami-ap',
        region: 'ap-southeast-2',
      }),
    );
  });

  it('does nothing when nobody waits', async () => {
    // Prepare
    const { store } = memoryStore();

    // Act
    const result = await reconcileWaits({ store, sfn, ec2, now });

    // Assess
    expect(result).toEqual({
      waiting: 0,
      answered: 0,
      pending: 0,
      answeredResources: [],
      errors: [],
      overBudget: [],
    });
    for (const r of REGIONS) expect(ec2Mock(r)).not.toHaveReceivedAnyCommand();
  });

  it('reports a bake still running long after a wait ran out of budget, and forgets waits of ended bakes', async () => {
    // Prepare: both waits' budgets ended at 04:50; it is now 05:10.
    const { store, records } = memoryStore([
      waitRecord('instance-stopped', 'us-east-1', 'i-stuck', { bakeId: 'web_stuck' }),
      waitRecord('instance-stopped', 'us-east-1', 'i-gone', { bakeId: 'web_ended' }),
    ]);
    ec2Mock('us-east-1')
      .on(DescribeInstancesCommand)
      .resolves({
        Reservations: [
          {
            Instances: [
              { InstanceId: 'i-stuck', State: { Name: 'running' } },
              { InstanceId: 'i-gone', State: { Name: 'running' } },
            ],
          },
        ],
      });
    const statuses: Record<string, string> = { web_stuck: 'RUNNING', web_ended: 'FAILED' };

    const emf = captureEmf();

    // Act
    const result = await reconcileWaits({
      store,
      sfn,
      ec2,
      now: () => new Date('2026-11-26T05:10:00.000Z'),
      executionStatus: async (bakeId) => statuses[bakeId],
    });
    const emitted = emf.summary();
    emf.stop();

    // Assess
    expect(result.overBudget).toEqual(['web_stuck']);
    expect(emitted).toEqual([
      { name: 'WaitsAnswered', dims: ['answeredBy'], value: 0, values: { answeredBy: 'reconciler' } },
      { name: 'BakesOverBudget', dims: [], value: 1, values: {} },
    ]);
    expect([...records.keys()]).toEqual(['instance-stopped#us-east-1#i-stuck']);
  });

  it('leaves a wait within its budget (and its grace) alone', async () => {
    const { store, records } = memoryStore([waitRecord('instance-stopped', 'us-east-1', 'i-busy')]);
    ec2Mock('us-east-1')
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-busy', State: { Name: 'running' } }] }] });
    const executionStatus = vi.fn(async () => 'FAILED');

    const result = await reconcileWaits({
      store,
      sfn,
      ec2,
      now: () => new Date('2026-11-26T04:59:00.000Z'),
      executionStatus,
    });

    expect(result.overBudget).toEqual([]);
    expect(executionStatus).not.toHaveBeenCalled();
    expect(records.size).toBe(1);
  });
});
