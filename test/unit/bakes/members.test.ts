import { ExecutionDoesNotExist, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, describe, expect, it } from 'vitest';
import { stopMembers } from '../../../lib/bakes/members.js';

const sfn = new SFNClient({ region: 'us-east-1' });
const sfnMock = mockClient(sfn);
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:ami-bake-dev';

describe('stopMembers', () => {
  afterAll(() => sfnMock.restore());

  it('stops every child execution of a request, and takes a child that already ended as stopped', async () => {
    sfnMock.reset();
    sfnMock
      .on(StopExecutionCommand, {
        executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:web_1-arm64`,
      })
      .rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));
    sfnMock.on(StopExecutionCommand).resolves({ stopDate: new Date() });

    await stopMembers(sfn, MACHINE, ['web_1-x86_64', 'web_1-arm64'], {
      error: 'BakeRequestFailed',
      cause: 'arm64 failed',
    });

    expect(sfnMock).toHaveReceivedCommandTimes(StopExecutionCommand, 2);
    expect(sfnMock).toHaveReceivedCommandWith(StopExecutionCommand, {
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:ami-bake-dev:web_1-x86_64',
      error: 'BakeRequestFailed',
      cause: 'arm64 failed',
    });
  });
});
