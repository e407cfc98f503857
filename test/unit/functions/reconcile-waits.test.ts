import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { reconcileWaits } from '../../../functions/reconcile-waits/core.js';
import { memoryStore, mockedSfn, waitRecord } from '../waits/fakes.js';
import { now } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const client = new EC2Client({ region: 'eu-west-1' });
const ec2 = () => client;
const { sfn, sfnMock } = mockedSfn();

beforeEach(() => {
  ec2Mock.reset();
  sfnMock.reset();
});

describe('reconcileWaits', () => {
  it('answers the waits whose event was missed and reports how many still wait', async () => {
    // Prepare
    const { store, records } = memoryStore([
      waitRecord('image-available', 'eu-west-1', 'ami-done'),
      waitRecord('image-available', 'eu-west-1', 'ami-busy'),
      waitRecord('instance-stopped', 'us-east-1', 'i-running'),
    ]);
    ec2Mock.on(DescribeImagesCommand).resolves({
      Images: [
        { ImageId: 'ami-done', State: 'available' },
        { ImageId: 'ami-busy', State: 'pending' },
      ],
    });
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-running', State: { Name: 'running' } }] }] });

    // Act
    const result = await reconcileWaits({ store, sfn, ec2, now });

    // Assess
    expect(result).toEqual({ waiting: 3, answered: 1, pending: 2 });
    expect([...records.keys()].sort()).toEqual([
      'image-available#eu-west-1#ami-busy',
      'instance-stopped#us-east-1#i-running',
    ]);
  });

  it('does nothing when nobody waits', async () => {
    // Prepare
    const { store } = memoryStore();

    // Act
    const result = await reconcileWaits({ store, sfn, ec2, now });

    // Assess
    expect(result).toEqual({ waiting: 0, answered: 0, pending: 0 });
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });
});
