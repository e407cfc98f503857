import {
  DescribeExecutionCommand,
  ExecutionStatus,
  ListExecutionsCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { SfnSend } from '../aws/sfn.js';

export interface ExecutionRef {
  name: string;
  executionArn: string;
  status: string;
  /** The Error a FAILED execution ended with (BakeFailed, BakeSucceededNotAnnounced, …). */
  error?: string;
  startDate?: Date;
  input?: unknown;
}

/** The few Step Functions operations the start path needs; the local runner has its own. */
export interface Executions {
  start(name: string, input: unknown): Promise<ExecutionRef>;
  /** Running executions whose name starts with `prefix`. */
  running(prefix: string): Promise<ExecutionRef[]>;
  describe(name: string): Promise<ExecutionRef | undefined>;
}

export function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

export function sfnExecutions(sfn: SfnSend, stateMachineArn: string): Executions {
  const describe = async (name: string): Promise<ExecutionRef | undefined> => {
    try {
      const d = await sfn.send(
        new DescribeExecutionCommand({ executionArn: executionArn(stateMachineArn, name) }),
      );
      return {
        name,
        executionArn: d.executionArn ?? '',
        status: d.status ?? 'UNKNOWN',
        ...(d.error ? { error: d.error } : {}),
        startDate: d.startDate,
        input: d.input ? JSON.parse(d.input) : undefined,
      };
    } catch (error) {
      if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
  };
  return {
    async start(name, input) {
      try {
        // A running execution with the same name and input is returned as it is: Step Functions'
        // own idempotency makes a retried or duplicated request harmless.
        const { executionArn: arn, startDate } = await sfn.send(
          new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
        );
        return { name, executionArn: arn ?? '', status: ExecutionStatus.RUNNING, startDate, input };
      } catch (error) {
        if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
        const existing = await describe(name);
        if (!existing) throw error;
        return existing;
      }
    },
    async running(prefix) {
      const found: ExecutionRef[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(
          new ListExecutionsCommand({
            stateMachineArn,
            statusFilter: 'RUNNING',
            maxResults: 1000,
            nextToken,
          }),
        );
        for (const e of page.executions ?? []) {
          if (e.name?.startsWith(prefix)) {
            found.push({
              name: e.name,
              executionArn: e.executionArn ?? '',
              status: e.status ?? 'RUNNING',
              startDate: e.startDate,
            });
          }
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return found;
    },
    describe,
  };
}
