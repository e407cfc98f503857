import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allStates,
  expectedFunctionKey,
  loadAsl,
  REPO_ROOT,
  type State,
  WAIT_FOR_TASK_TOKEN,
} from './asl.js';

/**
 * Packages the real serverless.yml once (offline, no AWS credentials) and reads the CloudFormation
 * template it produces: what would be deployed, not what the YAML seems to say.
 */

interface Resource {
  Type: string;
  Condition?: string;
  Properties: Record<string, unknown>;
}

interface Template {
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: unknown }>;
  Conditions: Record<string, unknown>;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const STAGE = 'ci';
const FUNCTIONS: Record<string, string> = {
  resolveRecipe: 'resolve-recipe',
  publishEvent: 'publish-event',
  launchBuilder: 'launch-builder',
  registerWait: 'register-wait',
  resumeWait: 'resume-wait',
  reconcileWaits: 'reconcile-waits',
  stopBuilder: 'stop-builder',
  createImage: 'create-image',
  copyImage: 'copy-image',
  finalizeImage: 'finalize-image',
  terminateBuilder: 'terminate-builder',
  cleanup: 'cleanup',
};
const FUNCTION_KEYS = Object.keys(FUNCTIONS);

// Fn::Sub placeholders. `${!x}` is Fn::Sub's escape for a literal `${x}`: IAM must receive the
// policy variable ${ec2:SourceInstanceARN} itself, not an empty string or a resolved value.
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation syntax, not JavaScript's.
const ANY_INSTANCE_ARN = 'arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:instance/*';
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation syntax, not JavaScript's.
const SOURCE_INSTANCE_ARN = '${!ec2:SourceInstanceARN}';

const functionLogicalId = (key: string): string =>
  `${key.charAt(0).toUpperCase()}${key.slice(1)}LambdaFunction`;
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** `get(x, 'a', 'b')` is `x.a.b`, or undefined when a step is missing. */
function get(value: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>(
    (v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined),
    value,
  );
}

let packageDir: string;
let template: Template;

const ofType = (type: string): [string, Resource][] =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);

function resource(logicalId: string): Resource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId} in the template`);
  return found;
}

function functionStatements(): Statement[] {
  const policies = resource('IamRoleLambdaExecution').Properties.Policies as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

function statementsAllowing(action: string): Statement[] {
  return functionStatements().filter((s) => s.Effect === 'Allow' && actions(s).includes(action));
}

function rulesTargeting(functionKey: string): Resource[] {
  return ofType('AWS::Events::Rule')
    .map(([, r]) => r)
    .filter((r) =>
      (r.Properties.Targets as { Arn: unknown }[]).some(
        (t) =>
          JSON.stringify(t.Arn) === JSON.stringify({ 'Fn::GetAtt': [functionLogicalId(functionKey), 'Arn'] }),
      ),
    );
}

beforeAll(async () => {
  packageDir = mkdtempSync(join(tmpdir(), 'ami-bake-package-'));
  const serverless = join(REPO_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
  // Empty credentials: packaging must not need an AWS account.
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
  };
  await promisify(execFile)(
    process.execPath,
    [serverless, 'package', '--stage', STAGE, '--package', packageDir],
    {
      cwd: REPO_ROOT,
      env,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  template = JSON.parse(readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 120_000);

afterAll(() => {
  if (packageDir) rmSync(packageDir, { recursive: true, force: true });
});

describe('the packaged functions', () => {
  it('are exactly the functions of the workflow and its waits', () => {
    const ids = ofType('AWS::Lambda::Function').map(([id]) => id);

    expect(ids.sort()).toEqual(FUNCTION_KEYS.map(functionLogicalId).sort());
  });

  it.each(FUNCTION_KEYS)('%s runs on nodejs24.x, arm64, with the stack environment', (key) => {
    const props = resource(functionLogicalId(key)).Properties;

    expect(props.Runtime).toBe('nodejs24.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Handler).toBe(`functions/${FUNCTIONS[key]}/handler.handler`);
    expect(get(props, 'Environment', 'Variables')).toEqual({
      EVENT_BUS_NAME: { 'Fn::If': ['CreateEventBus', { Ref: 'EventBus' }, ''] },
      WAIT_TABLE_NAME: { Ref: 'WaitTable' },
      BUILDER_INSTANCE_PROFILE: { Ref: 'BuilderInstanceProfile' },
      BUILDER_SECURITY_GROUP_ID: { 'Fn::GetAtt': ['BuilderSecurityGroup', 'GroupId'] },
      POWERTOOLS_SERVICE_NAME: 'ami-bake',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it.each(FUNCTION_KEYS)('%s is packaged on its own as an ESM bundle', (key) => {
    const zip = join(packageDir, `${key}.zip`);

    expect(existsSync(zip)).toBe(true);
    // Zip entry names are stored uncompressed.
    expect(readFileSync(zip).includes(`functions/${FUNCTIONS[key]}/handler.mjs`)).toBe(true);
    expect(get(resource(functionLogicalId(key)).Properties, 'Code', 'S3Key')).toMatch(
      new RegExp(`/${key}\\.zip$`),
    );
  });

  it('give every Task at least as long as the state allows it', () => {
    for (const { name, state } of allStates(loadAsl())) {
      if (state.Type !== 'Task' || state.TimeoutSeconds === undefined) continue;
      const timeout = resource(functionLogicalId(expectedFunctionKey(name))).Properties.Timeout as number;

      expect(timeout, name).toBeGreaterThanOrEqual(state.TimeoutSeconds);
      expect(timeout, name).toBeLessThanOrEqual(state.TimeoutSeconds + 30);
    }
  });
});

describe('the state machine', () => {
  const definition = (): { States: Record<string, State>; subs: Record<string, unknown> } => {
    const [json, subs] = get(resource('BakeStateMachine').Properties, 'DefinitionString', 'Fn::Sub') as [
      string,
      Record<string, unknown>,
    ];
    return { ...JSON.parse(json), subs };
  };

  it('is the Standard workflow ami-bake-<stage>, logging errors without execution data', () => {
    const props = resource('BakeStateMachine').Properties;

    expect(props.StateMachineName).toBe(`ami-bake-${STAGE}`);
    expect(props.StateMachineType).toBe('STANDARD');
    expect(props.LoggingConfiguration).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
    expect(get(props, 'LoggingConfiguration', 'Destinations')).toEqual([
      { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['BakeStateMachineLogGroup', 'Arn'] } } },
    ]);
  });

  it('has the states of statemachine/bake.asl.yml', () => {
    const deployed = allStates({ StartAt: '', States: definition().States }).map((s) => s.name);

    expect(deployed.sort()).toEqual(
      allStates(loadAsl())
        .map((s) => s.name)
        .sort(),
    );
  });

  it('invokes the function named after each Task state', () => {
    const { States, subs } = definition();
    const invoked = (state: State): unknown => {
      const target = state.Resource === WAIT_FOR_TASK_TOKEN ? state.Parameters?.FunctionName : state.Resource;
      const variable = /^\$\{(\w+)\}$/.exec(String(target))?.[1];
      return variable === undefined ? target : subs[variable];
    };

    const tasks = allStates({ StartAt: '', States }).filter((s) => s.state.Type === 'Task');
    expect(tasks.map((t) => t.name)).toContain('CopyImage');
    for (const { name, state } of tasks) {
      expect(invoked(state), name).toEqual({
        'Fn::GetAtt': [functionLogicalId(expectedFunctionKey(name)), 'Arn'],
      });
    }
  });

  it('is in the outputs', () => {
    expect(template.Outputs.StateMachineArn?.Value).toEqual({ Ref: 'BakeStateMachine' });
  });
});

describe('the builder', () => {
  it('may only tag its own instance with its bootstrap result', () => {
    const props = resource('BuilderRole').Properties;
    const statements = (props.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
      (p) => p.PolicyDocument.Statement,
    );

    expect(props.ManagedPolicyArns).toBeUndefined();
    expect(get(props, 'AssumeRolePolicyDocument', 'Statement')).toEqual([
      { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(statements).toHaveLength(1);
    const [only] = statements;
    expect(only && actions(only)).toEqual(['ec2:CreateTags']);
    expect(only?.Resource).toEqual({ 'Fn::Sub': ANY_INSTANCE_ARN });
    expect(only?.Condition).toEqual({
      StringEquals: { 'aws:ARN': { 'Fn::Sub': SOURCE_INSTANCE_ARN } },
      'ForAllValues:StringEquals': {
        'aws:TagKeys': ['ami-bake:bootstrap-result', 'ami-bake:bootstrap-log-tail'],
      },
    });
  });

  it('gets that role through an instance profile', () => {
    expect(resource('BuilderInstanceProfile').Properties.Roles).toEqual([{ Ref: 'BuilderRole' }]);
  });

  it('accepts no inbound traffic and may reach the internet for packages', () => {
    const props = resource('BuilderSecurityGroup').Properties;

    expect(props.SecurityGroupIngress).toBeUndefined();
    expect(ofType('AWS::EC2::SecurityGroupIngress')).toEqual([]);
    // Without a vpcId the group keeps EC2's default egress rule, which is this same rule.
    expect(props.SecurityGroupEgress).toEqual({
      'Fn::If': [
        'HasVpcId',
        [expect.objectContaining({ IpProtocol: '-1', CidrIp: '0.0.0.0/0' })],
        { Ref: 'AWS::NoValue' },
      ],
    });
  });
});

describe('the waits', () => {
  it('are kept in a table keyed by resource that expires items on expiresAt', () => {
    const props = resource('WaitTable').Properties;

    expect(props.KeySchema).toEqual([{ AttributeName: 'resource', KeyType: 'HASH' }]);
    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(props.SSESpecification).toEqual({ SSEEnabled: true });
  });

  it('are resumed by EC2 instance and AMI state changes on the default bus', () => {
    const rules = rulesTargeting('resumeWait');

    expect(rules).toHaveLength(1);
    expect(get(rules[0], 'Properties', 'EventBusName')).toBeUndefined();
    expect(get(rules[0], 'Properties', 'EventPattern')).toMatchObject({
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification', 'EC2 AMI State Change'],
    });
  });

  it('are reconciled every two minutes', () => {
    const rules = rulesTargeting('reconcileWaits');

    expect(rules.map((r) => r.Properties.ScheduleExpression)).toEqual(['rate(2 minutes)']);
  });
});

describe('the functions role', () => {
  it('stops, terminates, deregisters and deletes only what carries a bake id', () => {
    for (const action of [
      'ec2:StopInstances',
      'ec2:TerminateInstances',
      'ec2:DeregisterImage',
      'ec2:DeleteSnapshot',
    ]) {
      const statements = statementsAllowing(action);

      expect(statements.length, action).toBeGreaterThan(0);
      for (const s of statements) {
        expect(s.Condition?.Null, action).toEqual({ 'aws:ResourceTag/ami-bake:bake-id': 'false' });
      }
    }
  });

  it('launches only instances tagged with a bake id', () => {
    const onInstances = statementsAllowing('ec2:RunInstances').filter((s) =>
      JSON.stringify(s.Resource).includes('instance/'),
    );

    expect(onInstances.length).toBeGreaterThan(0);
    for (const s of onInstances) {
      expect(s.Condition?.Null).toEqual({ 'aws:RequestTag/ami-bake:bake-id': 'false' });
    }
  });

  it('passes only the builder role, only to EC2', () => {
    expect(statementsAllowing('iam:PassRole')).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::GetAtt': ['BuilderRole', 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
    ]);
  });

  it('answers task tokens of this stage state machine only', () => {
    for (const action of ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat']) {
      expect(
        statementsAllowing(action).map((s) => s.Resource),
        action,
      ).toEqual([
        {
          'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:ami-bake-${STAGE}`,
        },
      ]);
    }
  });

  it('uses KMS keys only through EC2', () => {
    const statements = functionStatements().filter((s) => actions(s).some((a) => a.startsWith('kms:')));

    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(s.Condition?.StringLike).toEqual({ 'kms:ViaService': 'ec2.*.amazonaws.com' });
    }
  });

  it('grants no service-wide wildcard action', () => {
    const wildcards = functionStatements()
      .flatMap(actions)
      .filter((a) => a === '*' || a.endsWith(':*'));

    expect(wildcards).toEqual([]);
  });
});

describe('the stack', () => {
  it('creates the bus ami-bake-<stage> only when no external bus is given', () => {
    const bus = resource('EventBus');

    expect(bus.Condition).toBe('CreateEventBus');
    expect(bus.Properties.Name).toBe(`ami-bake-${STAGE}`);
    expect(template.Conditions.CreateEventBus).toEqual({ 'Fn::Equals': ['', ''] });
  });

  it('outputs what a caller needs to start and observe bakes', () => {
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining([
        'StateMachineArn',
        'EventBusName',
        'WaitTableName',
        'BuilderInstanceProfileName',
        'BuilderSecurityGroupId',
      ]),
    );
  });
});
