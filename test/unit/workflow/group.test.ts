import { describe, expect, it } from 'vitest';
import { childFailure, describedChildFailure } from '../../../lib/workflow/group.js';

describe('childFailure: the failed architecture behind a BakeArchitectures failure', () => {
  it("reads the architecture from the child's input and the stage, error and cause from its failure", () => {
    // Prepare: what startExecution.sync:2 fails with when the child ends in ArchitectureFailed.
    const cause = describedChildFailure({
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:ami-bake:bake-0001-arm64',
      name: 'bake-0001-arm64',
      input: { bakeId: 'bake-0001-arm64', architecture: 'arm64', group: { bakeId: 'bake-0001' } },
      error: 'BakeFailed',
      cause: JSON.stringify({
        WaitForBuilder: {
          Error: 'BootstrapFailedError',
          Cause: JSON.stringify({ errorType: 'BootstrapFailedError', errorMessage: 'exit 3: yum failed' }),
        },
      }),
    });

    // Act
    const failure = childFailure({ Error: 'States.TaskFailed', Cause: cause });

    // Assess
    expect(failure).toEqual({
      architecture: 'arm64',
      bakeId: 'bake-0001-arm64',
      stage: 'WaitForBuilder',
      error: 'BootstrapFailedError',
      cause: 'exit 3: yum failed',
    });
  });

  it('says nothing of a failure that is not a child execution (the Map itself, a permission)', () => {
    // Act & Assess
    expect(
      childFailure({
        Error: 'States.Runtime',
        Cause: 'Path expression $.overrides does not point to a value',
      }),
    ).toBeUndefined();
  });

  it('still names the architecture of a child that failed without our failure (stopped, timed out)', () => {
    // Prepare
    const cause = describedChildFailure({
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:ami-bake:bake-0001-x86_64',
      name: 'bake-0001-x86_64',
      input: { bakeId: 'bake-0001-x86_64', architecture: 'x86_64' },
      error: 'States.Timeout',
      cause: 'the execution timed out',
    });

    // Act & Assess
    expect(childFailure({ Error: 'States.TaskFailed', Cause: cause })).toMatchObject({
      architecture: 'x86_64',
      stage: 'unknown',
      error: 'States.Timeout',
      cause: 'the execution timed out',
    });
  });
});
