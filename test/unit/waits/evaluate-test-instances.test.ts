import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LOG_TAIL_TAG_KEY, RESULT_TAG_KEY } from '../../../lib/bootstrap/wrapper.js';
import { TAG } from '../../../lib/tags.js';
import { evaluateInstances } from '../../../lib/waits/evaluate.js';

/** A test instance (TestImage) reports through the builder's protocol; its verdicts name the test. */

const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'us-east-1' });
const NOW = new Date('2026-11-26T04:47:42.123Z');
const ID = 'i-0test000000000001';

function testInstance(state: string, tags: Record<string, string> = {}): Instance {
  return {
    InstanceId: ID,
    InstanceType: 'm5.large',
    State: { Name: state as never },
    Tags: Object.entries({ [TAG.role]: 'test', ...tags }).map(([Key, Value]) => ({ Key, Value })),
  };
}

const verdictOf = async (instance: Instance) => {
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance] }] });
  return (await evaluateInstances(ec2, [ID], NOW)).get(ID);
};

beforeEach(() => ec2Mock.reset());

describe('evaluateInstances, for a test instance', () => {
  it('answers a passed test with its exit code and log tail (Bake Succeeded reports them)', async () => {
    // Act
    const verdict = await verdictOf(
      testInstance('stopped', { [RESULT_TAG_KEY]: 'success;exit=0', [LOG_TAIL_TAG_KEY]: 'nginx is active' }),
    );

    // Assess
    expect(verdict).toEqual({
      status: 'success',
      output: {
        outcome: 'success',
        exitCode: 0,
        instanceState: 'stopped',
        logTail: 'nginx is active',
        at: NOW.toISOString(),
      },
    });
  });

  it('fails with TestFailedError naming the test instance, its type, the exit code and the log tail', async () => {
    // Act
    const verdict = await verdictOf(
      testInstance('stopped', {
        [RESULT_TAG_KEY]: 'failure;exit=7',
        [LOG_TAIL_TAG_KEY]: 'curl: (7) Failed to connect to localhost port 80',
      }),
    );

    // Assess
    expect(verdict).toEqual({
      status: 'failure',
      error: 'TestFailedError',
      cause:
        'test script exited with code 7 on test instance i-0test000000000001 (m5.large); log tail: curl: (7) Failed to connect to localhost port 80',
    });
  });

  it('fails with TestFailedError when the test instance ends without a result', async () => {
    // Act
    const terminated = await verdictOf(testInstance('terminated'));

    // Assess
    expect(terminated).toEqual({
      status: 'failure',
      error: 'TestFailedError',
      cause: 'test instance i-0test000000000001 (m5.large) was terminated before it reported a result',
    });
  });
});
