import { DescribeImagesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { RESULT_TAG_KEY } from '../../../lib/bootstrap/wrapper.js';
import { checkWaits } from '../../../lib/waits/check.js';
import { regionalEc2 } from '../functions/fixtures.js';
import { memoryStore, mockedSfn, waitRecord } from './fakes.js';

const NOW = new Date('2026-11-26T04:47:42.123Z');
const REGIONS = ['us-east-1', 'eu-west-1'] as const;
const { ec2, mock: ec2Mock } = regionalEc2(REGIONS);
const { sfn, sfnMock } = mockedSfn();

function stoppedWith(result: string) {
  return (id: string) => ({
    InstanceId: id,
    State: { Name: 'stopped' as const },
    Tags: [{ Key: RESULT_TAG_KEY, Value: result }],
  });
}

beforeEach(() => {
  for (const r of REGIONS) ec2Mock(r).reset();
  sfnMock.reset();
  ec2Mock('us-east-1')
    .on(DescribeInstancesCommand)
    .callsFake(async ({ Filters }) => ({
      Reservations: [{ Instances: (Filters?.[0]?.Values ?? []).map(stoppedWith('success;exit=0')) }],
    }));
  ec2Mock('eu-west-1')
    .on(DescribeInstancesCommand)
    .callsFake(async ({ Filters }) => ({
      Reservations: [{ Instances: (Filters?.[0]?.Values ?? []).map(stoppedWith('failure;exit=1')) }],
    }));
});

describe('checkWaits', () => {
  it('asks EC2 once per region and resource kind, however many waits there are', async () => {
    // Prepare
    const records = [
      waitRecord('instance-stopped', 'us-east-1', 'i-a'),
      waitRecord('instance-stopped', 'us-east-1', 'i-b'),
      waitRecord('instance-stopped', 'us-east-1', 'i-c'),
      waitRecord('instance-stopped', 'eu-west-1', 'i-d'),
    ];
    const { store } = memoryStore(records);

    // Act
    await checkWaits(records, { ec2, sfn, store, now: () => NOW });

    // Assess
    expect(ec2Mock('us-east-1')).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
    expect(ec2Mock('us-east-1')).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [{ Name: 'instance-id', Values: ['i-a', 'i-b', 'i-c'] }],
    });
    expect(ec2Mock('eu-west-1')).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
    const describeCalls = REGIONS.reduce(
      (n, r) => n + ec2Mock(r).commandCalls(DescribeInstancesCommand).length,
      0,
    );
    expect(describeCalls).toBe(2);
  });

  it('answers every settled wait with its own verdict and counts what is still pending', async () => {
    // Prepare
    ec2Mock('us-east-1')
      .on(DescribeImagesCommand)
      .resolves({ Images: [{ ImageId: 'ami-pending', State: 'pending' }] });
    const records = [
      waitRecord('instance-stopped', 'us-east-1', 'i-a'),
      waitRecord('instance-stopped', 'eu-west-1', 'i-d'),
      waitRecord('image-available', 'us-east-1', 'ami-pending'),
    ];
    const { store, records: left } = memoryStore(records);

    // Act
    const result = await checkWaits(records, { ec2, sfn, store, now: () => NOW });

    // Assess
    expect(result).toEqual({ answered: 2, pending: 1 });
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'token-for-i-a' });
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: 'token-for-i-d',
      error: 'BootstrapFailedError',
    });
    expect([...left.keys()]).toEqual(['image-available#us-east-1#ami-pending']);
  });

  it('uses a verdict it already knows instead of asking EC2', async () => {
    // Prepare
    const record = waitRecord('image-available', 'eu-west-1', 'ami-failed');
    const { store } = memoryStore([record]);
    const known = new Map([
      [record.resource, { status: 'failure' as const, error: 'ImageFailedError', cause: 'from the event' }],
    ]);

    // Act
    const result = await checkWaits([record], { ec2, sfn, store, now: () => NOW }, known);

    // Assess
    expect(result).toEqual({ answered: 1, pending: 0 });
    expect(ec2Mock('eu-west-1')).not.toHaveReceivedCommand(DescribeImagesCommand);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      error: 'ImageFailedError',
      cause: 'from the event',
    });
  });

  it('keeps waiting for a resource EC2 no longer lists', async () => {
    // Prepare
    ec2Mock('us-east-1').on(DescribeImagesCommand).resolves({ Images: [] });
    const record = waitRecord('image-available', 'us-east-1', 'ami-unknown');
    const { store, records } = memoryStore([record]);

    // Act
    const result = await checkWaits([record], { ec2, sfn, store, now: () => NOW });

    // Assess
    expect(result).toEqual({ answered: 0, pending: 1 });
    expect(records.size).toBe(1);
  });
});
