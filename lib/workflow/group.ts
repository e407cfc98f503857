import * as z from 'zod';
import { causeText } from '../cause.js';
import { ARCHITECTURES, type Architecture } from '../recipe/schema.js';

/**
 * A group's request bakes each architecture in a child execution (BakeArchitectures,
 * startExecution.sync:2). When a child fails, the Map fails with `States.TaskFailed` and, as cause,
 * the child's execution as DescribeExecution shows it (JSON, with the child's input, Error and
 * Cause). The child's Fail state (ArchitectureFailed) gives as Cause its `$.failure`, as JSON:
 * `{Stage: {Error, Cause}}`. This reads the architecture and the stage back out of the two.
 */
export interface ChildFailure {
  architecture?: Architecture;
  bakeId?: string;
  stage: string;
  error: string;
  cause: string;
}

const describedExecution = z.object({
  Name: z.string().optional(),
  Input: z.string().optional(),
  Error: z.string().optional(),
  Cause: z.string().optional(),
});
const childInput = z.object({
  bakeId: z.string().optional(),
  architecture: z.enum(ARCHITECTURES).optional(),
});
const childCause = z.record(z.string(), z.object({ Error: z.string(), Cause: z.string().optional() }));

function parsed<T extends z.ZodType>(schema: T, text: string | undefined): z.infer<T> | undefined {
  if (text === undefined) return undefined;
  try {
    const result = schema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/** The failed child behind a BakeArchitectures failure; undefined if the cause is not a child's. */
export function childFailure(failure: { Error: string; Cause?: string }): ChildFailure | undefined {
  const execution = parsed(describedExecution, failure.Cause);
  if (!execution) return undefined;
  const input = parsed(childInput, execution.Input);
  const [stage, inner] = Object.entries(parsed(childCause, execution.Cause) ?? {})[0] ?? [];
  return {
    architecture: input?.architecture,
    bakeId: input?.bakeId ?? execution.Name,
    stage: stage ?? 'unknown',
    error: inner?.Error ?? execution.Error ?? failure.Error,
    cause: causeText(inner?.Cause ?? execution.Cause ?? ''),
  };
}

/** The JSON startExecution.sync:2 fails with when the child it waits for fails (for the local runner). */
export function describedChildFailure(child: {
  executionArn: string;
  name: string;
  input: unknown;
  error: string;
  cause: string;
}): string {
  return JSON.stringify({
    ExecutionArn: child.executionArn,
    Name: child.name,
    Input: JSON.stringify(child.input),
    Status: 'FAILED',
    Error: child.error,
    Cause: child.cause,
  });
}
