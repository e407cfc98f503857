import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { SfnSend } from '../aws/sfn.js';
import { executionArn } from '../start/executions.js';

/**
 * Stops the child executions of a request with several architectures (their execution names are
 * their bake ids). A child that already ended, or never started, answers with an error that is
 * not one: the cleanup that follows goes by their bake-id tags anyway, and cleanupEnded cleans
 * each stopped child again. Step Functions does not promise that a failed Map stops the
 * `startExecution.sync` children of its other iterations, so the request stops them itself.
 */
export async function stopMembers(
  sfn: SfnSend,
  stateMachineArn: string,
  members: readonly string[],
  stop: { error: string; cause: string },
): Promise<void> {
  await Promise.all(
    members.map((child) =>
      sfn
        .send(
          new StopExecutionCommand({
            executionArn: executionArn(stateMachineArn, child),
            error: stop.error,
            cause: stop.cause.slice(0, 32_000),
          }),
        )
        .catch(() => undefined),
    ),
  );
}
