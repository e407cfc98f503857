import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Ec2Event, ec2EventSchema, resumeWait } from '../../../functions/resume-wait/core.js';
import { RESULT_TAG_KEY } from '../../../lib/bootstrap/wrapper.js';
import { captureEmf } from '../emf.js';
import { memoryStore, mockedSfn, waitRecord } from '../waits/fakes.js';
import { NOW, now } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const client = new EC2Client({ region: 'eu-west-1' });
const ec2 = () => client;
const { sfn, sfnMock } = mockedSfn();

function instanceEvent(instanceId: string, state = 'stopped', time?: string): Ec2Event {
  return ec2EventSchema.parse({
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    region: 'us-east-1',
    time,
    detail: { 'instance-id': instanceId, state },
  });
}

function amiEvent(imageId: string, State: string, ErrorMessage?: string): Ec2Event {
  return ec2EventSchema.parse({
    'detail-type': 'EC2 AMI State Change',
    source: 'aws.ec2',
    region: 'eu-west-1',
    detail: { ImageId: imageId, State, ErrorMessage },
  });
}

beforeEach(() => {
  ec2Mock.reset();
  sfnMock.reset();
});

describe('resumeWait', () => {
  it('ignores an event about a resource nobody waits for', async () => {
    // Prepare
    const { store } = memoryStore([waitRecord('instance-stopped', 'us-east-1', 'i-0builder00000001')]);

    // Act
    const result = await resumeWait(instanceEvent('i-0unrelated000001'), { store, sfn, ec2, now });

    // Assess
    expect(result).toEqual({ resource: 'instance-stopped#us-east-1#i-0unrelated000001', answered: false });
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('answers the wait of a builder that stopped with a success result', async () => {
    // Prepare
    const { store, records } = memoryStore([
      waitRecord('instance-stopped', 'us-east-1', 'i-0builder00000001'),
    ]);
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: 'i-0builder00000001',
              State: { Name: 'stopped' },
              Tags: [{ Key: RESULT_TAG_KEY, Value: 'success;exit=0' }],
            },
          ],
        },
      ],
    });

    // Act
    const result = await resumeWait(instanceEvent('i-0builder00000001'), { store, sfn, ec2, now });

    // Assess
    expect(result.answered).toBe(true);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-for-i-0builder00000001',
    });
    expect(records.size).toBe(0);
  });

  it("fails the wait of an AMI that failed with the event's error message, which DescribeImages may no longer know", async () => {
    // Prepare
    const { store } = memoryStore([waitRecord('image-available', 'eu-west-1', 'ami-0copyeu00000001')]);
    ec2Mock
      .on(DescribeImagesCommand)
      .resolves({ Images: [{ ImageId: 'ami-0copyeu00000001', State: 'failed' }] });

    // Act
    const result = await resumeWait(
      amiEvent('ami-0copyeu00000001', 'failed', 'Snapshot copy quota exceeded'),
      { store, sfn, ec2, now },
    );

    // Assess
    expect(result.answered).toBe(true);
    expect(sfnMock).toHaveReceivedCommandExactlyOnceWith(SendTaskFailureCommand, {
      taskToken: 'token-for-ami-0copyeu00000001',
      error: 'ImageFailedError',
      cause: 'image ami-0copyeu00000001 in eu-west-1 is failed: Snapshot copy quota exceeded',
    });
  });

  it.each([
    ['an instance is pending', instanceEvent('i-0builder00000001', 'pending')],
    ['an instance is running', instanceEvent('i-0builder00000001', 'running')],
    ['an instance is stopping', instanceEvent('i-0builder00000001', 'stopping')],
    ['an AMI is pending', amiEvent('ami-0copyeu00000001', 'pending')],
  ])('ignores an event saying %s (no wait ends there) without looking anything up', async (_, event) => {
    // Prepare
    const { store, records } = memoryStore([
      waitRecord('instance-stopped', 'us-east-1', 'i-0builder00000001'),
      waitRecord('image-available', 'eu-west-1', 'ami-0copyeu00000001'),
    ]);
    const looked: string[] = [];
    const watched = {
      ...store,
      get(resource: string) {
        looked.push(resource);
        return store.get(resource);
      },
    };

    // Act
    const result = await resumeWait(event, { store: watched, sfn, ec2, now });

    // Assess: the deployed rule does not deliver these (serverless.yml); a local run delivers all.
    expect(result.answered).toBe(false);
    expect(looked).toEqual([]);
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(records.size).toBe(2);
  });

  it('keeps waiting when an event arrives before EC2 shows the change', async () => {
    // Prepare
    const { store, records } = memoryStore([
      waitRecord('image-available', 'eu-west-1', 'ami-0copyeu00000001'),
    ]);
    ec2Mock
      .on(DescribeImagesCommand)
      .resolves({ Images: [{ ImageId: 'ami-0copyeu00000001', State: 'pending' }] });

    // Act
    const result = await resumeWait(amiEvent('ami-0copyeu00000001', 'available'), { store, sfn, ec2, now });

    // Assess
    expect(result.answered).toBe(false);
    expect(records.size).toBe(1);
  });

  describe('metrics', () => {
    let emf: ReturnType<typeof captureEmf>;
    beforeEach(() => {
      emf = captureEmf();
    });
    afterEach(() => emf.stop());

    it('counts a wait answered by an event, and how long after the change it was answered', async () => {
      const { store } = memoryStore([waitRecord('instance-stopped', 'us-east-1', 'i-0builder00000001')]);
      ec2Mock.on(DescribeInstancesCommand).resolves({
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-0builder00000001',
                State: { Name: 'stopped' },
                Tags: [{ Key: RESULT_TAG_KEY, Value: 'success;exit=0' }],
              },
            ],
          },
        ],
      });
      const changed = new Date(NOW.getTime() - 2500).toISOString();

      await resumeWait(instanceEvent('i-0builder00000001', 'stopped', changed), { store, sfn, ec2, now });

      expect(emf.summary()).toEqual([
        { name: 'WaitsAnswered', dims: ['answeredBy'], value: 1, values: { answeredBy: 'event' } },
        { name: 'WaitDetectionLag', dims: ['answeredBy'], value: 2.5, values: { answeredBy: 'event' } },
      ]);
    });

    it('counts nothing for an event that answers no wait', async () => {
      const { store } = memoryStore();
      await resumeWait(instanceEvent('i-0unrelated000001'), { store, sfn, ec2, now });
      expect(emf.summary()).toEqual([]);
    });
  });
});
