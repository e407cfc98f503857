import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { sfnExecutions } from '../../../lib/start/executions.js';
import { awsError } from '../functions/fixtures.js';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ami-bake-dev';
const BAKE_ID = 'example-web_0f3a9c1d2e4b_202611260524337a1c';
const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:ami-bake-dev:${BAKE_ID}`;

describe('sfnExecutions().describe', () => {
  const client = new SFNClient({ region: 'us-east-1' });
  const sfn = mockClient(client);
  beforeEach(() => sfn.reset());

  it('returns the Error a failed execution ended with, so the sweeper can tell an unannounced bake apart', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION_ARN }).resolves({
      executionArn: EXECUTION_ARN,
      status: 'FAILED',
      error: 'BakeSucceededNotAnnounced',
      cause: 'The images exist and were kept in every region',
      startDate: new Date('2026-11-26T05:24:33Z'),
      input: '{"bakeId":"x"}',
    });

    // Act
    const execution = await sfnExecutions(client, STATE_MACHINE_ARN).describe(BAKE_ID);

    // Assess
    expect(execution).toEqual({
      name: BAKE_ID,
      executionArn: EXECUTION_ARN,
      status: 'FAILED',
      error: 'BakeSucceededNotAnnounced',
      startDate: new Date('2026-11-26T05:24:33Z'),
      input: { bakeId: 'x' },
    });
  });

  it('has no error for an execution that did not fail', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION_ARN, status: 'RUNNING' });

    // Act
    const execution = await sfnExecutions(client, STATE_MACHINE_ARN).describe(BAKE_ID);

    // Assess
    expect(execution).toEqual({ name: BAKE_ID, executionArn: EXECUTION_ARN, status: 'RUNNING' });
  });

  it('is undefined when no execution has the name', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist'));

    // Act
    const execution = await sfnExecutions(client, STATE_MACHINE_ARN).describe(BAKE_ID);

    // Assess
    expect(execution).toBeUndefined();
  });
});
