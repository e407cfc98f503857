import { type SfnSend, sfn } from '../lib/aws/sfn.js';
import type { Io } from './io.js';
import { bakeRef, resolveTarget, type Target, type TargetArgs, targetSpec } from './target.js';

/** The flags that found the stack, to repeat in the follow-up command a result suggests. */
export function targetFlags(args: TargetArgs): string {
  return (['stage', 'stack', 'region', 'state-machine-arn'] as const)
    .filter((k) => args[k] !== undefined)
    .map((k) => ` --${k} ${args[k]}`)
    .join('');
}

export interface BakeTarget extends Target {
  bakeId: string;
  sfn: SfnSend;
}

/**
 * A bake on the deployed stack and a Step Functions client in its region. An execution ARN
 * names its state machine, so it needs no lookup. Arguments are checked before any AWS call.
 */
export async function bakeTarget(
  value: string | undefined,
  args: TargetArgs,
  io: Io,
  progress: (line: string) => void,
): Promise<BakeTarget> {
  const ref = bakeRef(value);
  const spec = targetSpec(args, io.env);
  if (ref.stateMachineArn && ref.region) {
    const target = { region: ref.region, stateMachineArn: ref.stateMachineArn };
    return { ...target, bakeId: ref.bakeId, sfn: sfn(ref.region) };
  }
  if (!spec.stateMachineArn) progress(`Looking up stack ${spec.stackName}…`);
  const target = await resolveTarget(spec, io);
  return { ...target, bakeId: ref.bakeId, sfn: sfn(target.region) };
}
