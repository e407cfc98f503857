import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { bakeIdSchema } from '../lib/state.js';
import { AwsConfigError, UsageError } from './errors.js';
import type { Io } from './io.js';

/** parseArgs options shared by every command that talks to a deployed stack. */
export const TARGET_OPTIONS = {
  stage: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  'state-machine-arn': { type: 'string' },
  'event-bus-name': { type: 'string' },
} as const;

export const TARGET_HELP = `Stack:
  --stage <stage>                the deployed stage; the stack is ami-bake-<stage> (default: dev)
  --stack <name>                 the CloudFormation stack name, instead of --stage
  --region <region>              the stack's region (default: $AWS_REGION, else your profile's)
  --state-machine-arn <arn>      skip the stack lookup (env AMI_BAKE_STATE_MACHINE_ARN)
  --event-bus-name <name>        the stack's bus, with --state-machine-arn (env AMI_BAKE_EVENT_BUS_NAME)`;

export interface TargetArgs {
  stage?: string;
  stack?: string;
  region?: string;
  'state-machine-arn'?: string;
  'event-bus-name'?: string;
}

/** Where the deployed pipeline is: checked offline first, then looked up in CloudFormation. */
export interface TargetSpec {
  region?: string;
  stateMachineArn?: string;
  eventBusName?: string;
  stackName: string;
}

export interface Target {
  region: string;
  stateMachineArn: string;
  /** Unknown when only the state machine ARN was given. */
  eventBusName?: string;
  stackName?: string;
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:execution:[A-Za-z0-9_-]{1,80}:([^:]+)$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

export function targetSpec(args: TargetArgs, env: NodeJS.ProcessEnv): TargetSpec {
  const arn =
    args['state-machine-arn'] ?? (args.stack || args.stage ? undefined : env.AMI_BAKE_STATE_MACHINE_ARN);
  if (args.stack && args.stage) throw new UsageError('give --stack or --stage, not both');
  if (args['state-machine-arn'] && (args.stack || args.stage))
    throw new UsageError('give --state-machine-arn or --stack/--stage, not both');
  const stage = args.stage ?? 'dev';
  if (!/^[a-zA-Z0-9-]{1,40}$/.test(stage))
    throw new UsageError(`--stage ${stage}: letters, digits and dashes`);
  if (args.region !== undefined && !REGION.test(args.region))
    throw new UsageError(`--region ${JSON.stringify(args.region)} is not an AWS region`);
  const stackName = args.stack ?? `ami-bake-${stage}`;
  if (arn === undefined) return { region: args.region, stackName };
  const match = STATE_MACHINE_ARN.exec(arn);
  if (!match) throw new UsageError(`${JSON.stringify(arn)} is not a Step Functions state machine ARN`);
  if (args.region && args.region !== match[1])
    throw new UsageError(`--region ${args.region} does not match the state machine's region ${match[1]}`);
  return {
    region: match[1],
    stateMachineArn: arn,
    eventBusName: args['event-bus-name'] ?? env.AMI_BAKE_EVENT_BUS_NAME,
    stackName,
  };
}

/** A bake id, or the execution ARN that `start --json` printed (then no lookup is needed). */
export function bakeRef(value: string | undefined): {
  bakeId: string;
  stateMachineArn?: string;
  region?: string;
} {
  if (!value) throw new UsageError('give a bake id (the execution name that start printed)');
  const match = EXECUTION_ARN.exec(value);
  if (match) {
    const stateMachineArn = value.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, '');
    return { bakeId: match[2] ?? '', stateMachineArn, region: match[1] };
  }
  const parsed = bakeIdSchema.safeParse(value);
  if (!parsed.success)
    throw new UsageError(
      `bake id ${JSON.stringify(value)} ${parsed.error.issues[0]?.message ?? 'is invalid'}`,
    );
  return { bakeId: value };
}

/** Reads the stack's outputs StateMachineArn and EventBusName, unless the ARN was given. */
export async function resolveTarget(spec: TargetSpec, io: Io): Promise<Target> {
  const region = spec.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (spec.stateMachineArn && region)
    return { region, stateMachineArn: spec.stateMachineArn, eventBusName: spec.eventBusName };
  const cfn = new CloudFormationClient({ region, maxAttempts: 3 });
  const resolvedRegion = region ?? (await cfn.config.region());
  let outputs: Record<string, string>;
  try {
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName: spec.stackName }));
    outputs = Object.fromEntries(
      (Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
    );
  } catch (error) {
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message))
      throw new AwsConfigError(
        `stack ${spec.stackName} not found in ${resolvedRegion}: deploy it (npx serverless deploy --stage <stage> --region ${resolvedRegion}) or pass --stage, --stack, --region or --state-machine-arn`,
      );
    throw error;
  } finally {
    cfn.destroy();
  }
  const stateMachineArn = outputs.StateMachineArn;
  if (!stateMachineArn)
    throw new AwsConfigError(
      `stack ${spec.stackName} in ${resolvedRegion} has no StateMachineArn output: is it an ami-bake stack?`,
    );
  return {
    region: resolvedRegion,
    stateMachineArn,
    eventBusName: outputs.EventBusName || undefined,
    stackName: spec.stackName,
  };
}
