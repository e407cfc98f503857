import type { ExecutionRef, Executions } from '../../../lib/start/executions.js';

/** Step Functions as a list: enough to see what was started and what runs. */
export class FakeExecutions implements Executions {
  readonly started: ExecutionRef[] = [];
  constructor(readonly existing: ExecutionRef[] = []) {}
  async start(name: string, input: unknown) {
    const ref = {
      name,
      executionArn: `arn:aws:states:us-east-1:1:execution:sm:${name}`,
      status: 'RUNNING',
      input,
    };
    this.started.push(ref);
    return ref;
  }
  async running(prefix: string) {
    return [...this.existing, ...this.started].filter(
      (e) => e.status === 'RUNNING' && e.name.startsWith(prefix),
    );
  }
  async describe(name: string) {
    return [...this.existing, ...this.started].find((e) => e.name === name);
  }
}
