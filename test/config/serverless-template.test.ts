import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureTool } from '../../local/tools.js';
import { loadCatalog } from '../../scripts/catalog.js';
import {
  SCHEDULER_ROLE_LOGICAL_ID,
  scheduleLogicalId,
  snsTopicLogicalId,
  triggerPermissionLogicalId,
  triggerRuleLogicalId,
} from '../../scripts/recipe-resources.js';
import {
  allStates,
  expectedFunctionKey,
  loadAsl,
  REPO_ROOT,
  type State,
  WAIT_FOR_TASK_TOKEN,
} from './asl.js';
import { PACKAGE_STAGE, packagedTemplate } from './package-template.js';

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

const STAGE = PACKAGE_STAGE;
/** The stack tag every bake resource carries (lib/tags.ts), and its value for this stage. */
const STACK_TAG = 'ami-bake:stack';
const STACK = `ami-bake-${STAGE}`;
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
  distributeImage: 'distribute-image',
  launchTest: 'launch-test',
  terminateTest: 'terminate-test',
  cleanup: 'cleanup',
  cleanupEnded: 'cleanup-ended',
  startBake: 'start-bake',
  api: 'api',
  sweepLeftovers: 'sweep-leftovers',
  forwardEvents: 'forward-events',
  retireImages: 'retire-images',
};
/** The functions that start bakes and read recipes at run time. */
const BAKE_STARTERS = ['startBake', 'api'];
/** The bake starters, and the sweeper (its regions come from the catalog; it asks Step Functions). */
const CATALOG_READERS = [...BAKE_STARTERS, 'sweepLeftovers'];
const FUNCTION_KEYS = Object.keys(FUNCTIONS);

// Fn::Sub placeholders. `${!x}` is Fn::Sub's escape for a literal `${x}`: IAM must receive the
// policy variable ${ec2:SourceInstanceARN} itself, not an empty string or a resolved value.
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation syntax, not JavaScript's.
const ANY_INSTANCE_ARN = 'arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:instance/*';
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation syntax, not JavaScript's.
const SOURCE_INSTANCE_ARN = '${!ec2:SourceInstanceARN}';
const STATE_MACHINE_ARN = {
  'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:ami-bake-${STAGE}`,
};
const START_BAKE_ARN = { 'Fn::GetAtt': ['StartBakeLambdaFunction', 'Arn'] };
/** The project's bus: the stack's own, or the one named by the eventBusName parameter. */
const PROJECT_BUS = { 'Fn::If': ['CreateEventBus', { Ref: 'EventBus' }, ''] };

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

/** The names of a zip's entries, from its central directory (no Zip64: our zips are small). */
function zipEntries(file: string): string[] {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const names: string[] = [];
  let at = zip.readUInt32LE(end + 16);
  for (let i = 0; i < zip.readUInt16LE(end + 10); i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    names.push(zip.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return names;
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

/** Each function's own role (scripts/function-roles.cjs). */
const roleLogicalId = (key: string): string => `${key.charAt(0).toUpperCase()}${key.slice(1)}LambdaRole`;

function roleStatements(key: string): Statement[] {
  const policies = resource(roleLogicalId(key)).Properties.Policies as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

/** The statements of every function's role. */
function functionStatements(): Statement[] {
  return FUNCTION_KEYS.flatMap(roleStatements);
}

function statementsAllowing(action: string, statements = functionStatements()): Statement[] {
  return statements.filter((s) => s.Effect === 'Allow' && actions(s).includes(action));
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

beforeAll(() => {
  ({ dir: packageDir, template } = packagedTemplate<Template>());
});

describe('the packaged functions', () => {
  it('are exactly the functions of the workflow, its waits and the bake starters', () => {
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
      STACK_NAME: STACK,
      // ResolveRecipe loads the recipe by name from its packaged catalog; retireImages reads each
      // recipe's retention there.
      ...(key === 'resolveRecipe' || key === 'retireImages' ? { RECIPES_DIR: 'recipes' } : {}),
      ...(CATALOG_READERS.includes(key) ? { STATE_MACHINE_ARN, RECIPES_DIR: 'recipes' } : {}),
      // reconcileWaits asks whether a bake whose wait ran out of budget still runs; cleanup stops
      // a request's children that still run.
      ...(key === 'reconcileWaits' || key === 'cleanup' ? { STATE_MACHINE_ARN } : {}),
      // startBake checks who sent a Bake Requested event (lib/start/origin.ts).
      ...(key === 'startBake'
        ? {
            BAKE_REQUEST_SOURCES: '',
            BAKE_REQUEST_ACCOUNTS: {
              'Fn::If': ['HasBakeRequestAccounts', '', { Ref: 'AWS::AccountId' }],
            },
          }
        : {}),
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

  it.each(FUNCTION_KEYS)(
    '%s ships no source map: its map is kept beside the zips, for stack traces',
    (key) => {
      const entries = zipEntries(join(packageDir, `${key}.zip`));

      expect(entries).toContain(`functions/${FUNCTIONS[key]}/handler.mjs`);
      expect(entries.filter((name) => name.endsWith('.map'))).toEqual([]);
      // docs/deploy.md, "Reading a stack trace".
      expect(existsSync(join(packageDir, 'sourcemaps', `functions/${FUNCTIONS[key]}/handler.mjs.map`))).toBe(
        true,
      );
    },
  );

  it('start without --enable-source-maps: a cold start reads no source map', () => {
    for (const key of FUNCTION_KEYS) {
      const options = get(
        resource(functionLogicalId(key)).Properties,
        'Environment',
        'Variables',
        'NODE_OPTIONS',
      );

      expect(String(options ?? ''), key).not.toContain('--enable-source-maps');
    }
  });

  it('give every Task at least as long as the state allows it', () => {
    for (const { name, state } of allStates(loadAsl())) {
      if (state.Type !== 'Task' || state.TimeoutSeconds === undefined) continue;
      // BakeArchitecture runs a child execution, not a function: its timeout is the child's own.
      if (String(state.Resource).includes(':states:startExecution')) continue;
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

    const tasks = allStates({ StartAt: '', States }).filter(
      (s) => s.state.Type === 'Task' && !String(s.state.Resource).includes(':states:startExecution'),
    );
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

  it('starts its children (one per architecture) as executions of itself, by its name, not its Ref', () => {
    const { States, subs } = definition();
    const child = allStates({ StartAt: '', States }).find((s) => s.name === 'BakeArchitecture')?.state;
    const arn = /^\$\{(\w+)\}$/.exec(String(child?.Parameters?.StateMachineArn))?.[1];

    expect(child?.Resource).toBe('arn:aws:states:::states:startExecution.sync:2');
    expect(arn === undefined ? undefined : subs[arn]).toEqual(STATE_MACHINE_ARN);
  });

  it('may start, describe and stop only its own executions, with the rule .sync needs (BakeArchitectures)', () => {
    const role = resource('BakeStateMachineRole').Properties.Policies as {
      PolicyDocument: { Statement: Statement[] };
    }[];
    const statements = role.flatMap((p) => p.PolicyDocument.Statement);
    const resources = (action: string) => statementsAllowing(action, statements).flatMap((s) => s.Resource);
    const executions = {
      'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:ami-bake-${STAGE}:*`,
    };

    expect(resources('states:StartExecution')).toEqual([STATE_MACHINE_ARN]);
    expect(resources('states:DescribeExecution')).toEqual([executions]);
    expect(resources('states:StopExecution')).toEqual([executions]);
    // Step Functions' own managed rule for .sync (connect-stepfunctions, IAM policies).
    for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
      expect(JSON.stringify(resources(action)), action).toContain(
        ':rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
      );
    }
  });
});

describe('the builder', () => {
  const builderPolicies = () =>
    resource('BuilderRole').Properties.Policies as {
      PolicyName: string;
      PolicyDocument: { Statement: Statement[] };
    }[];

  it('has a tagging policy and a policy to read bootstrap secrets, nothing else', () => {
    expect(builderPolicies().map((p) => p.PolicyName)).toEqual([
      'tag-own-bootstrap-result',
      'read-bootstrap-secrets',
    ]);
  });

  it('may only tag its own instance with its bootstrap result', () => {
    const props = resource('BuilderRole').Properties;
    const statements = builderPolicies()
      .filter((p) => p.PolicyName === 'tag-own-bootstrap-result')
      .flatMap((p) => p.PolicyDocument.Statement);

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

  it('may read only /ami-bake/ parameters and ami-bake/ secrets (bootstrap.secrets), and decrypt only through SSM and Secrets Manager for those', () => {
    const statements = builderPolicies()
      .filter((p) => p.PolicyName === 'read-bootstrap-secrets')
      .flatMap((p) => p.PolicyDocument.Statement);

    expect(statements.map((st) => ({ actions: actions(st), resource: st.Resource }))).toEqual([
      {
        actions: ['ssm:GetParameter'],
        resource: { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:*:\${AWS::AccountId}:parameter/ami-bake/*` },
      },
      {
        actions: ['secretsmanager:GetSecretValue'],
        resource: {
          'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:*:\${AWS::AccountId}:secret:ami-bake/*`,
        },
      },
      {
        actions: ['kms:Decrypt'],
        resource: { 'Fn::Sub': `arn:\${AWS::Partition}:kms:*:\${AWS::AccountId}:key/*` },
      },
      {
        actions: ['kms:Decrypt'],
        resource: { 'Fn::Sub': `arn:\${AWS::Partition}:kms:*:\${AWS::AccountId}:key/*` },
      },
    ]);
    expect(statements.map((st) => st.Condition)).toEqual([
      undefined,
      undefined,
      {
        StringLike: {
          'kms:ViaService': 'ssm.*.amazonaws.com',
          'kms:EncryptionContext:PARAMETER_ARN': {
            'Fn::Sub': `arn:\${AWS::Partition}:ssm:*:\${AWS::AccountId}:parameter/ami-bake/*`,
          },
        },
      },
      {
        StringLike: {
          'kms:ViaService': 'secretsmanager.*.amazonaws.com',
          'kms:EncryptionContext:SecretARN': {
            'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:*:\${AWS::AccountId}:secret:ami-bake/*`,
          },
        },
      },
    ]);
    for (const st of statements) expect(st.Effect).toBe('Allow');
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

  it('are reconciled every minute, the fallback for a missed event', () => {
    const rules = rulesTargeting('reconcileWaits');

    expect(rules.map((r) => r.Properties.ScheduleExpression)).toEqual(['rate(1 minute)']);
  });
});

describe('EC2 image events of the other distribution regions (docs/decisions/0004-forward-ec2-events.md)', () => {
  const HOME_DEFAULT_BUS = {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation syntax, not JavaScript's.
    'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
  };

  it('are forwarded to the home default bus by a custom resource, for every region of the packaged catalog', async () => {
    const forwarding = resource('Ec2EventForwarding');
    const entries = await loadCatalog(join(REPO_ROOT, 'recipes'));
    const catalogRegions = [...new Set(entries.flatMap((e) => e.recipe.distribution.regions))].sort();

    expect(forwarding.Type).toBe('Custom::Ec2EventForwarding');
    expect(forwarding.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': ['ForwardEventsLambdaFunction', 'Arn'] },
      Regions: catalogRegions,
      Stack: STACK,
      HomeBusArn: HOME_DEFAULT_BUS,
      RoleArn: { 'Fn::GetAtt': ['Ec2EventForwardingRole', 'Arn'] },
    });
  });

  it('reach the home bus through a role only EventBridge of this account assumes, which may only put events there', () => {
    const props = resource('Ec2EventForwardingRole').Properties;
    const statements = (props.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
      (p) => p.PolicyDocument.Statement,
    );

    expect(get(props, 'AssumeRolePolicyDocument', 'Statement')).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(statements.flatMap(actions)).toEqual(['events:PutEvents']);
    expect(statements.map((s) => s.Resource)).toEqual([HOME_DEFAULT_BUS]);
  });

  it("forwardEvents manages only this stage's forwarding rule and passes only that role, only to EventBridge", () => {
    const own = roleStatements('forwardEvents');

    expect(statementsAllowing('events:PutRule', own).map((s) => s.Resource)).toEqual([
      { 'Fn::Sub': `arn:\${AWS::Partition}:events:*:\${AWS::AccountId}:rule/${STACK}-forward-ec2-images` },
    ]);
    expect(statementsAllowing('iam:PassRole', own)).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::GetAtt': ['Ec2EventForwardingRole', 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } },
      }),
    ]);
  });

  it('reach resumeWait through its default-bus rule, whatever their source region', () => {
    const pattern = get(rulesTargeting('resumeWait')[0], 'Properties', 'EventPattern') as Record<
      string,
      unknown
    >;

    expect(pattern.region).toBeUndefined();
    expect(pattern).toMatchObject({ source: ['aws.ec2'] });
    expect(pattern['detail-type']).toContain('EC2 AMI State Change');
  });
});

describe('the sweeper', () => {
  it('runs every six hours with five minutes and 512 MB', () => {
    const rules = rulesTargeting('sweepLeftovers');

    expect(rules.map((r) => r.Properties.ScheduleExpression)).toEqual(['rate(6 hours)']);
    expect(rules[0]?.Properties.State).toBe('ENABLED');
    // The schedule sends its own event, not `{"dryRun": true}`: a real sweep.
    expect(get(rules[0], 'Properties', 'Targets', '0', 'Input')).toBeUndefined();
    expect(resource('SweepLeftoversLambdaFunction').Properties).toMatchObject({
      Timeout: 300,
      MemorySize: 512,
    });
  });

  it('carries the recipe catalog, for the regions to sweep', async () => {
    const entries = await loadCatalog(join(REPO_ROOT, 'recipes'));

    for (const { file } of entries) {
      const relative = file.slice(REPO_ROOT.length);
      expect(readFileSync(join(packageDir, 'sweepLeftovers.zip')).includes(relative), relative).toBe(true);
    }
  });

  it('may describe EC2 resources and the executions it judges leftovers by', () => {
    const own = roleStatements('sweepLeftovers');
    for (const action of ['ec2:DescribeInstances', 'ec2:DescribeImages', 'ec2:DescribeSnapshots']) {
      expect(statementsAllowing(action, own).map((s) => s.Resource)).toEqual(['*']);
    }
    expect(statementsAllowing('states:DescribeExecution', own).length).toBeGreaterThan(0);
  });
});

describe('retention', () => {
  it('runs retireImages on our own Bake Succeeded events on the project bus, as they are', () => {
    const rules = rulesTargeting('retireImages').filter((r) => r.Properties.EventPattern);

    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties).toMatchObject({
      EventBusName: PROJECT_BUS,
      State: 'ENABLED',
      EventPattern: {
        source: ['ami-bake'],
        'detail-type': ['Bake Succeeded'],
        account: [{ Ref: 'AWS::AccountId' }],
      },
    });
    expect(get(rules[0], 'Properties', 'Targets', '0', 'InputTransformer')).toBeUndefined();
    expect(get(rules[0], 'Properties', 'Targets', '0', 'Input')).toBeUndefined();
  });

  it('runs retireImages daily with its own scheduled event, and the rules may invoke it', () => {
    const schedules = rulesTargeting('retireImages').filter((r) => r.Properties.ScheduleExpression);
    const permissions = ofType('AWS::Lambda::Permission')
      .map(([, p]) => p.Properties)
      .filter((p) => JSON.stringify(p.FunctionName).includes('RetireImagesLambdaFunction'));

    expect(schedules.map((r) => r.Properties.ScheduleExpression)).toEqual(['rate(1 day)']);
    expect(get(schedules[0], 'Properties', 'Targets', '0', 'Input')).toBeUndefined();
    expect(permissions).toHaveLength(2);
    for (const p of permissions) expect(p).toMatchObject({ Principal: 'events.amazonaws.com' });
  });

  it('carries the recipe catalog, for each recipe retention and regions', async () => {
    const entries = await loadCatalog(join(REPO_ROOT, 'recipes'));

    for (const { file } of entries) {
      const relative = file.slice(REPO_ROOT.length);
      expect(readFileSync(join(packageDir, 'retireImages.zip')).includes(relative), relative).toBe(true);
    }
  });

  it('removes only images and snapshots of this stack, and reads only the /ami-bake/ parameters', () => {
    const own = roleStatements('retireImages');

    for (const action of ['ec2:DeregisterImage', 'ec2:DeleteSnapshot'])
      for (const s of statementsAllowing(action, own))
        expect(s.Condition).toEqual({ StringEquals: OWN_RESOURCE });
    expect(statementsAllowing('ssm:GetParameter', own).map((s) => s.Resource)).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation syntax, not JavaScript's.
      { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:parameter/ami-bake/*' },
    ]);
    expect(statementsAllowing('events:PutEvents', own).map((s) => resourcesOf(s))).toEqual([
      expect.stringContaining('event-bus'),
    ]);
  });
});

describe('bakes that ended without their own Cleanup (stopped, timed out)', () => {
  const STATUS_CHANGE = {
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
  };

  it('are cleaned up by cleanupEnded on the state machine own ABORTED, TIMED_OUT and FAILED events', () => {
    const rules = rulesTargeting('cleanupEnded');

    expect(rules).toHaveLength(1);
    // Step Functions sends status changes to the default bus only.
    expect(rules[0]?.Properties.EventBusName).toBeUndefined();
    expect(rules[0]?.Properties.State).toBe('ENABLED');
    expect(rules[0]?.Properties.EventPattern).toEqual({
      ...STATUS_CHANGE,
      detail: { status: ['ABORTED', 'TIMED_OUT', 'FAILED'], stateMachineArn: [STATE_MACHINE_ARN] },
    });
    expect(get(rules[0], 'Properties', 'Targets', '0', 'InputTransformer')).toBeUndefined();
  });

  it('cleanupEnded may be invoked by that rule, and has as long as Cleanup', () => {
    const [id, rule] =
      ofType('AWS::Events::Rule').find(([, r]) => rulesTargeting('cleanupEnded').includes(r)) ?? [];
    const permissions = ofType('AWS::Lambda::Permission')
      .map(([, p]) => p.Properties)
      .filter((p) => JSON.stringify(p.FunctionName).includes('CleanupEndedLambdaFunction'));

    expect(id).toBeDefined();
    expect(permissions).toHaveLength(1);
    expect(permissions[0]).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
    });
    // Serverless builds the rule ARN from the rule name.
    expect(JSON.stringify(permissions[0]?.SourceArn)).toContain(`rule","${String(rule?.Properties.Name)}"`);
    expect(resource('CleanupEndedLambdaFunction').Properties.Timeout).toBe(
      resource('CleanupLambdaFunction').Properties.Timeout,
    );
  });

  it('cleanupEnded may read the execution, remove what the bake tagged and publish Bake Failed', () => {
    const executions = {
      'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:ami-bake-${STAGE}:*`,
    };

    const own = roleStatements('cleanupEnded');

    expect(resource('CleanupEndedLambdaFunction').Properties.Role).toEqual({
      'Fn::GetAtt': [roleLogicalId('cleanupEnded'), 'Arn'],
    });
    for (const action of ['states:DescribeExecution', 'states:GetExecutionHistory']) {
      expect(
        statementsAllowing(action, own).map((s) => s.Resource),
        action,
      ).toContainEqual(executions);
    }
    for (const action of [
      'ec2:TerminateInstances',
      'ec2:DeregisterImage',
      'ec2:DeleteSnapshot',
      'events:PutEvents',
    ]) {
      expect(statementsAllowing(action, own).length, action).toBeGreaterThan(0);
    }
  });
});

describe('bakes whose images were delivered but not announced', () => {
  const rule = () => resource('BakeUnannouncedRule');

  it('raise an alarm on the state machine own FAILED event with error BakeSucceededNotAnnounced', () => {
    expect(rule().Type).toBe('AWS::Events::Rule');
    expect(rule().Properties.EventBusName).toBeUndefined();
    expect(rule().Properties.State).toBe('ENABLED');
    expect(rule().Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['FAILED'],
        error: ['BakeSucceededNotAnnounced'],
        stateMachineArn: [STATE_MACHINE_ARN],
      },
    });
  });

  it('send it to the alarm topic, naming the bake, and the topic takes messages from that rule only', () => {
    const [target, ...others] = rule().Properties.Targets as Record<string, unknown>[];
    const message = get(target, 'InputTransformer', 'InputTemplate') as string;
    const policy = resource('AlarmTopicPolicy').Properties;

    expect(others).toEqual([]);
    expect(target?.Arn).toEqual({ Ref: 'AlarmTopic' });
    expect(get(target, 'InputTransformer', 'InputPathsMap')).toMatchObject({ bakeId: '$.detail.name' });
    expect(message).toContain('<bakeId>');
    expect(resource('AlarmTopic').Type).toBe('AWS::SNS::Topic');
    expect(policy.Topics).toEqual([{ Ref: 'AlarmTopic' }]);
    expect(get(policy, 'PolicyDocument', 'Statement')).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: 'AlarmTopic' },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['BakeUnannouncedRule', 'Arn'] } } },
      }),
    ]);
    expect(template.Outputs.AlarmTopicArn?.Value).toEqual({ Ref: 'AlarmTopic' });
  });
});

describe('the functions role', () => {
  it('stops, terminates, deregisters, shares and deletes only what carries this stack tag', () => {
    for (const action of ON_OWN_RESOURCES) {
      const statements = statementsAllowing(action);

      expect(statements.length, action).toBeGreaterThan(0);
      for (const s of statements) {
        expect(s.Condition?.StringEquals, action).toEqual({ [`aws:ResourceTag/${STACK_TAG}`]: STACK });
      }
    }
  });

  it('versions only launch templates their owner opted in for this stack, and writes parameters only under /ami-bake/', () => {
    for (const action of [
      'ec2:CreateLaunchTemplateVersion',
      'ec2:ModifyLaunchTemplate',
      'ec2:DeleteLaunchTemplateVersions',
    ]) {
      const statements = statementsAllowing(action);
      expect(statements.length, action).toBeGreaterThan(0);
      for (const st of statements) {
        expect(st.Condition, action).toEqual({
          StringEquals: { 'aws:ResourceTag/ami-bake:distribute': STACK },
        });
      }
    }
    for (const action of ['ssm:PutParameter', 'ssm:DeleteParameter']) {
      const statements = statementsAllowing(action);
      expect(statements.length, action).toBeGreaterThan(0);
      for (const st of statements) expect(resourcesOf(st), action).toContain(':parameter/ami-bake/*');
    }
  });

  it('launches only instances tagged with this stack, with IMDSv2 required', () => {
    const onInstances = statementsAllowing('ec2:RunInstances').filter((s) =>
      JSON.stringify(s.Resource).includes('instance/'),
    );

    expect(onInstances.length).toBeGreaterThan(0);
    for (const s of onInstances) {
      // Test instances (launchTest) must also be tagged as test instances.
      expect(s.Condition?.StringEquals).toEqual({
        [`aws:RequestTag/${STACK_TAG}`]: STACK,
        'ec2:MetadataHttpTokens': 'required',
        ...(roleStatements('launchTest').includes(s) ? { 'aws:RequestTag/ami-bake:role': 'test' } : {}),
      });
    }
  });

  it('creates Spot requests only tagged with this stack, and tags them only at launch', () => {
    const onRequests = statementsAllowing('ec2:RunInstances').filter((s) =>
      resourcesOf(s).includes('spot-instances-request/'),
    );
    const tagging = statementsAllowing('ec2:CreateTags').filter((s) =>
      resourcesOf(s).includes('spot-instances-request/'),
    );

    expect(onRequests.length).toBeGreaterThan(0);
    for (const s of onRequests) expect(s.Condition).toEqual({ StringEquals: OWN_REQUEST });
    expect(tagging.length).toBeGreaterThan(0);
    for (const s of tagging)
      expect(s.Condition).toEqual({ StringEquals: { 'ec2:CreateAction': 'RunInstances' } });
  });

  it('passes only the builder role, only to EC2, and the event forwarding role, only to EventBridge', () => {
    const toEc2 = expect.objectContaining({
      Resource: { 'Fn::GetAtt': ['BuilderRole', 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
    // launchBuilder, then launchTest (test instances get the builder's profile).
    expect(statementsAllowing('iam:PassRole')).toEqual([
      toEc2,
      toEc2,
      expect.objectContaining({
        Resource: { 'Fn::GetAtt': ['Ec2EventForwardingRole', 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } },
      }),
    ]);
  });

  it('answers task tokens of this stage state machine only', () => {
    for (const action of ['states:SendTaskSuccess', 'states:SendTaskFailure']) {
      const resources = statementsAllowing(action).map((s) => s.Resource);

      expect(resources.length, action).toBeGreaterThan(0);
      for (const r of resources) expect(r, action).toEqual(STATE_MACHINE_ARN);
    }
  });

  it('starts, lists, inspects and stops executions of this stage state machine only', () => {
    const executions = {
      'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:ami-bake-${STAGE}:*`,
    };
    for (const action of ['states:StartExecution', 'states:ListExecutions']) {
      const resources = statementsAllowing(action).map((s) => s.Resource);

      expect(resources.length, action).toBeGreaterThan(0);
      for (const r of resources) expect(r, action).toEqual(STATE_MACHINE_ARN);
    }
    for (const action of ['states:DescribeExecution', 'states:StopExecution', 'states:GetExecutionHistory']) {
      const resources = statementsAllowing(action).map((s) => s.Resource);

      expect(resources.length, action).toBeGreaterThan(0);
      for (const r of resources) expect(r, action).toEqual(executions);
    }
  });

  it('uses KMS keys only through EC2, and may otherwise only describe them (to check a recipe)', () => {
    const statements = functionStatements().filter((s) => actions(s).some((a) => a.startsWith('kms:')));
    const direct = statements.filter((s) => s.Condition?.StringLike?.['kms:ViaService'] === undefined);

    expect(statements.length).toBeGreaterThan(1);
    for (const s of statements.filter((x) => !direct.includes(x))) {
      expect(s.Condition?.StringLike).toEqual({ 'kms:ViaService': 'ec2.*.amazonaws.com' });
    }
    expect(direct.map((s) => [actions(s), s.Resource])).toEqual([
      [['kms:DescribeKey'], { 'Fn::Sub': `arn:\${AWS::Partition}:kms:*:\${AWS::AccountId}:key/*` }],
    ]);
    expect(statementsAllowing('kms:DescribeKey', roleStatements('resolveRecipe'))).toContain(direct[0]);
  });

  it('grants no service-wide wildcard action', () => {
    const wildcards = functionStatements()
      .flatMap(actions)
      .filter((a) => a === '*' || a.endsWith(':*'));

    expect(wildcards).toEqual([]);
  });
});

/**
 * What each function calls, read from its code (functions/<name>/, the lib modules it imports):
 * its role allows exactly these actions, besides writing its own logs.
 */
const DESCRIBE_FOR_CLEANUP = [
  'ec2:DescribeInstances',
  'ec2:DescribeImages',
  'ec2:DescribeSnapshots',
  'ec2:DescribeSpotInstanceRequests',
];
const REMOVE = [
  // A Spot builder's persistent request, cancelled before its instance is terminated.
  'ec2:CancelSpotInstanceRequests',
  'ec2:TerminateInstances',
  'ec2:DisableImageDeregistrationProtection',
  'ec2:DeregisterImage',
  'ec2:DeleteSnapshot',
];
const WAIT_CHECKS = [
  'ec2:DescribeInstances',
  'ec2:DescribeImages',
  'ec2:GetConsoleOutput',
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
];
const EC2_USES_KEYS = [
  'kms:CreateGrant',
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
];
const START = [
  'ssm:GetParameter',
  'ec2:DescribeImages',
  'states:StartExecution',
  'states:ListExecutions',
  'states:DescribeExecution',
  'events:PutEvents',
];
const ROLE_ACTIONS: Record<string, string[]> = {
  resolveRecipe: [
    'ec2:DescribeImages',
    'ec2:DescribeInstanceTypes',
    'ec2:DescribeInstanceTypeOfferings',
    'ec2:GetInstanceTypesFromInstanceRequirements',
    'ec2:DescribeRouteTables',
    'ec2:DescribeSubnets',
    'ec2:DescribeVpcEndpoints',
    'ec2:DescribeLaunchTemplates',
    'ssm:GetParameter',
    'kms:DescribeKey',
  ],
  publishEvent: ['events:PutEvents'],
  launchBuilder: [
    'ec2:RunInstances',
    'ec2:CreateTags',
    'iam:PassRole',
    'iam:CreateServiceLinkedRole',
    ...EC2_USES_KEYS,
  ],
  registerWait: [...WAIT_CHECKS, 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
  resumeWait: [...WAIT_CHECKS, 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
  reconcileWaits: [...WAIT_CHECKS, 'dynamodb:Scan', 'dynamodb:DeleteItem', 'states:DescribeExecution'],
  stopBuilder: ['ec2:DescribeInstances', 'ec2:StopInstances'],
  createImage: ['ec2:DescribeImages', 'ec2:CreateImage', 'ec2:CreateTags', ...EC2_USES_KEYS],
  copyImage: ['ec2:CopyImage', 'ec2:CreateTags', ...EC2_USES_KEYS],
  finalizeImage: [
    'ec2:ModifyImageAttribute',
    'ec2:EnableImageDeprecation',
    'ec2:EnableImageDeregistrationProtection',
    'ec2:ModifySnapshotAttribute',
  ],
  distributeImage: [
    'ec2:DescribeImages',
    'ec2:DescribeLaunchTemplates',
    'ssm:GetParameter',
    'ssm:PutParameter',
    'ssm:DeleteParameter',
    'ec2:CreateLaunchTemplateVersion',
    'ec2:ModifyLaunchTemplate',
    'ec2:DeleteLaunchTemplateVersions',
  ],
  terminateBuilder: [
    'ec2:DescribeInstances',
    'ec2:DescribeSpotInstanceRequests',
    'ec2:CancelSpotInstanceRequests',
    'ec2:TerminateInstances',
  ],
  launchTest: ['ec2:RunInstances', 'ec2:CreateTags', 'iam:PassRole', ...EC2_USES_KEYS],
  terminateTest: ['ec2:TerminateInstances', 'ec2:CreateTags'],
  cleanup: [...DESCRIBE_FOR_CLEANUP, ...REMOVE, 'states:StopExecution'],
  cleanupEnded: [
    ...DESCRIBE_FOR_CLEANUP,
    ...REMOVE,
    'states:DescribeExecution',
    'states:GetExecutionHistory',
    'events:PutEvents',
  ],
  startBake: [...START, 'sqs:SendMessage'],
  api: [
    ...START,
    'states:GetExecutionHistory',
    'states:StopExecution',
    ...DESCRIBE_FOR_CLEANUP,
    ...REMOVE,
    // POST /recipes/{name}/retire: what could still use an image.
    'ec2:DescribeLaunchTemplateVersions',
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:DescribeLaunchConfigurations',
  ],
  sweepLeftovers: [...DESCRIBE_FOR_CLEANUP, ...REMOVE, 'states:DescribeExecution'],
  retireImages: [
    'ec2:DescribeImages',
    'ec2:DescribeInstances',
    'ec2:DescribeLaunchTemplateVersions',
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:DescribeLaunchConfigurations',
    'ssm:GetParameter',
    'ec2:DeregisterImage',
    'ec2:DeleteSnapshot',
    'events:PutEvents',
  ],
  forwardEvents: [
    'events:PutRule',
    'events:PutTargets',
    'events:RemoveTargets',
    'events:DeleteRule',
    'events:TagResource',
    'iam:PassRole',
  ],
};
/** Every role writes its own logs and its X-Ray traces (docs/operations.md, "Traces"). */
const LOG_ACTIONS = [
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
];
/** Actions that change or destroy an existing resource: each only on what carries this stack's tag. */
const ON_OWN_RESOURCES = [
  'ec2:CancelSpotInstanceRequests',
  'ec2:StopInstances',
  'ec2:TerminateInstances',
  'ec2:GetConsoleOutput',
  'ec2:DeregisterImage',
  'ec2:DisableImageDeregistrationProtection',
  'ec2:ModifyImageAttribute',
  'ec2:EnableImageDeprecation',
  'ec2:EnableImageDeregistrationProtection',
  'ec2:ModifySnapshotAttribute',
  'ec2:DeleteSnapshot',
];
const OWN_RESOURCE = { [`aws:ResourceTag/${STACK_TAG}`]: STACK };
const OWN_REQUEST = { [`aws:RequestTag/${STACK_TAG}`]: STACK };
const resourcesOf = (s: Statement): string => JSON.stringify(s.Resource);
/** TerminateTest's CreateTags: only ami-bake:tested=passed, only on this stack's resources. */
const isTestedMark = (s: Statement): boolean =>
  JSON.stringify(s.Condition) ===
  JSON.stringify({
    StringEquals: { ...OWN_RESOURCE, 'aws:RequestTag/ami-bake:tested': 'passed' },
    'ForAllValues:StringEquals': { 'aws:TagKeys': ['ami-bake:tested'] },
  });

describe('the permission boundary', () => {
  it('no function shares a role: the one default role is gone', () => {
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    const roles = FUNCTION_KEYS.map((key) => resource(functionLogicalId(key)).Properties.Role);

    expect(roles).toEqual(FUNCTION_KEYS.map((key) => ({ 'Fn::GetAtt': [roleLogicalId(key), 'Arn'] })));
  });

  it.each(FUNCTION_KEYS)('%s has a role that only Lambda assumes, with no managed policy', (key) => {
    const props = resource(roleLogicalId(key)).Properties;

    expect(resource(roleLogicalId(key)).Type).toBe('AWS::IAM::Role');
    expect(get(props, 'AssumeRolePolicyDocument', 'Statement')).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(props.ManagedPolicyArns).toBeUndefined();
  });

  it.each(FUNCTION_KEYS)('%s may call only the actions its code calls', (key) => {
    const granted = new Set(roleStatements(key).flatMap(actions));

    expect([...granted].sort()).toEqual([...new Set([...(ROLE_ACTIONS[key] ?? []), ...LOG_ACTIONS])].sort());
  });

  it.each(FUNCTION_KEYS)('%s writes only to its own log group', (key) => {
    const statements = roleStatements(key).filter((s) => actions(s).some((a) => a.startsWith('logs:')));

    expect(statements.map((s) => s.Resource)).toEqual([
      {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/ami-bake-${STAGE}-${key}:*`,
      },
    ]);
  });

  it('lists the Describe actions it needs: no ec2:Describe*, no DescribeInstanceAttribute (user data)', () => {
    const all = functionStatements().flatMap(actions);

    expect(all.filter((a) => a.includes('*'))).toEqual([]);
    expect(all).not.toContain('ec2:DescribeInstanceAttribute');
  });

  it('changes or destroys existing resources only when they carry this stack tag value', () => {
    for (const action of ON_OWN_RESOURCES) {
      for (const s of statementsAllowing(action)) {
        expect(s.Condition, `${action} ${resourcesOf(s)}`).toEqual({ StringEquals: OWN_RESOURCE });
      }
    }
  });

  it('images only builders of this stack, and the image must be tagged with this stack at creation', () => {
    const statements = statementsAllowing('ec2:CreateImage');
    const onInstances = statements.filter((s) => resourcesOf(s).includes('instance/'));
    const onImages = statements.filter((s) => !resourcesOf(s).includes('instance/'));

    expect(onInstances.length).toBeGreaterThan(0);
    expect(onImages.length).toBeGreaterThan(0);
    for (const s of onInstances) expect(s.Condition).toEqual({ StringEquals: OWN_RESOURCE });
    for (const s of onImages) expect(s.Condition).toEqual({ StringEquals: OWN_REQUEST });
  });

  it('copies images only into copies tagged with this stack at creation', () => {
    const statements = statementsAllowing('ec2:CopyImage');

    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) expect(s.Condition).toEqual({ StringEquals: OWN_REQUEST });
  });

  it('tags only at creation: no role may tag an existing resource (FinalizeImage no longer needs to)', () => {
    // The one exception, pinned by the next test: TerminateTest's mark of a passed test.
    const statements = statementsAllowing('ec2:CreateTags').filter((s) => !isTestedMark(s));
    const atCreation = statements.filter(
      (s) => get(s.Condition, 'StringEquals', 'ec2:CreateAction') !== undefined,
    );
    const later = statements.filter((s) => !atCreation.includes(s));

    expect(atCreation.length).toBeGreaterThan(0);
    for (const s of atCreation) {
      const creators = [get(s.Condition, 'StringEquals', 'ec2:CreateAction')].flat();
      expect(creators.every((c) => ['RunInstances', 'CreateImage', 'CopyImage'].includes(String(c)))).toBe(
        true,
      );
      expect(s.Condition).toEqual({
        StringEquals: { 'ec2:CreateAction': creators.length === 1 ? creators[0] : creators },
      });
    }
    // CreateImage and CopyImage give the recipe's tags with the lineage (issue 8): nothing is
    // left to tag afterwards, so the ami-bake:* keys cannot be forged on any resource.
    expect(later).toEqual([]);
  });

  it('adds to an existing resource only the passed-test mark: that one key and value, on this stack own images and snapshots', () => {
    const later = statementsAllowing('ec2:CreateTags').filter(
      (s) => get(s.Condition, 'StringEquals', 'ec2:CreateAction') === undefined,
    );

    expect(later).toHaveLength(1);
    expect(later.every(isTestedMark)).toBe(true);
    expect(roleStatements('terminateTest')).toContainEqual(later[0]);
    expect(resourcesOf(later[0] as Statement)).not.toContain('instance/');
  });

  it('launches test instances only from this stack own images, tagged as this stack test instances, with IMDSv2', () => {
    const run = roleStatements('launchTest').filter((s) => actions(s).includes('ec2:RunInstances'));
    const onImages = run.filter((s) => resourcesOf(s).includes('image/'));
    const onInstances = run.filter((s) => resourcesOf(s).includes('instance/'));

    expect(onImages.length).toBeGreaterThan(0);
    for (const s of onImages) expect(s.Condition).toEqual({ StringEquals: OWN_RESOURCE });
    expect(onInstances.map((s) => s.Condition)).toEqual([
      {
        StringEquals: {
          ...OWN_REQUEST,
          'aws:RequestTag/ami-bake:role': 'test',
          'ec2:MetadataHttpTokens': 'required',
        },
      },
    ]);
  });

  it('launches builders only with encrypted volumes (unless the stage allows unencrypted ones for public images)', () => {
    const onVolumes = statementsAllowing('ec2:RunInstances').filter((s) =>
      resourcesOf(s).includes('volume/'),
    );

    expect(onVolumes.length).toBeGreaterThan(0);
    for (const s of onVolumes) {
      expect(s.Condition).toEqual({
        'Fn::If': ['AllowUnencryptedVolumes', { Ref: 'AWS::NoValue' }, { Bool: { 'ec2:Encrypted': 'true' } }],
      });
    }
    expect(template.Conditions.AllowUnencryptedVolumes).toEqual({ 'Fn::Equals': ['false', 'true'] });
  });

  it('lets KMS grants be created only for AWS resources (EC2 using the key for a volume or copy)', () => {
    const grants = statementsAllowing('kms:CreateGrant');

    expect(grants.length).toBeGreaterThan(0);
    for (const s of grants) {
      expect(s.Condition).toEqual({
        StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' },
        Bool: { 'kms:GrantIsForAWSResource': 'true' },
      });
    }
  });

  it('reads only AWS public parameters and the project own /ami-bake/ parameters', () => {
    const resources = statementsAllowing('ssm:GetParameter').flatMap((s) => [s.Resource].flat());

    expect(resources.length).toBeGreaterThan(0);
    for (const r of resources) {
      expect([
        { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:*::parameter/aws/service/*` },
        { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:*:\${AWS::AccountId}:parameter/ami-bake/*` },
      ]).toContainEqual(r);
    }
  });
});

describe('the deployment', () => {
  it('keeps artifacts in a bucket that blocks public access, is versioned and encrypted', () => {
    const bucket = resource('ServerlessDeploymentBucket').Properties;

    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(get(bucket, 'BucketEncryption', 'ServerSideEncryptionConfiguration', '0')).toMatchObject({
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
    });
  });

  it('logs every HTTP API request', () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage').map(([, r]) => r.Properties);

    expect(stages).toHaveLength(1);
    expect(get(stages[0], 'AccessLogSettings', 'DestinationArn')).toBeDefined();
    expect(get(stages[0], 'AccessLogSettings', 'Format')).toContain('$context.requestId');
  });
});

/**
 * The template checkers, pinned in local/tools-requirements.txt and installed on first use into
 * .venv-tools (local/tools.ts), run on the template packaged above.
 */
interface Report {
  results?: { failed_checks?: { check_id: string; resource: string }[] };
}
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the packaged template, checked by cfn-lint and checkov', () => {
  const templateFile = () => join(packageDir, 'cloudformation-template-update-stack.json');
  // The first run installs the checkers (a few minutes on a busy machine).
  const INSTALL_AND_RUN = 900_000;

  it(
    'has no cfn-lint error',
    async () => {
      const cfnLint = await ensureTool('cfn-lint');
      // Exit status is a bit mask of the levels found (2 error, 4 warning, 8 info): read the JSON.
      const { stdout } = await promisify(execFile)(cfnLint, ['--format', 'json', templateFile()], {
        maxBuffer: 16 * 1024 * 1024,
      }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
      const findings = JSON.parse(stdout) as { Level: string; Rule: { Id: string }; Message: string }[];

      expect(findings.filter((f) => f.Level === 'Error').map((f) => `${f.Rule.Id}: ${f.Message}`)).toEqual(
        [],
      );
    },
    INSTALL_AND_RUN,
  );

  it(
    'fails no checkov check beyond the committed baseline, each suppression with its reason',
    async () => {
      const checkov = await ensureTool('checkov');
      const baseline = parse(
        readFileSync(join(REPO_ROOT, 'test', 'config', 'checkov-baseline.yml'), 'utf8'),
      ) as {
        check: string;
        resource: string;
        reason: string;
      }[];
      const { stdout } = await promisify(execFile)(
        checkov,
        [
          '--file',
          templateFile(),
          '--framework',
          'cloudformation',
          '--output',
          'json',
          '--compact',
          '--quiet',
        ],
        {
          maxBuffer: 64 * 1024 * 1024,
          env: { ...process.env, BC_SKIP_MAPPING: 'TRUE', CKV_NO_PROGRESS: '1' },
        },
      ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
      // One framework gives one report object; with no findings, checkov prints only a summary.
      const parsed = JSON.parse(stdout) as Report | Report[];
      const failed = [parsed]
        .flat()
        .flatMap((r) => r.results?.failed_checks ?? [])
        .map((f) => `${f.check_id} ${f.resource}`);
      const suppresses = (entry: (typeof baseline)[number], finding: string): boolean =>
        new RegExp(`^${`${entry.check} ${entry.resource}`.split('*').map(escapeRegExp).join('.*')}$`).test(
          finding,
        );

      expect(failed.length, 'checkov found nothing: did it run?').toBeGreaterThan(0);
      for (const entry of baseline) {
        expect(entry.reason, `${entry.check} ${entry.resource}`).toMatch(/^[^\n]{10,200}$/);
      }
      expect(failed.filter((f) => !baseline.some((b) => suppresses(b, f))).sort()).toEqual([]);
      // A suppression that no longer matches a finding is dead weight: remove it.
      expect(baseline.filter((b) => !failed.some((f) => suppresses(b, f)))).toEqual([]);
    },
    INSTALL_AND_RUN,
  );
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
        'HttpApiUrl',
        'AlarmTopicArn',
      ]),
    );
  });
});

describe('bakes started by schedules, events and the HTTP API', () => {
  const catalog = () => loadCatalog(join(REPO_ROOT, 'recipes'));
  const zipHas = (key: string, path: string): boolean =>
    readFileSync(join(packageDir, `${key}.zip`)).includes(path);

  it('startBake and api have the memory and timeouts they need', () => {
    expect(resource('StartBakeLambdaFunction').Properties).toMatchObject({ Timeout: 60, MemorySize: 512 });
    // API Gateway's integration timeout is 29 seconds.
    expect(resource('ApiLambdaFunction').Properties).toMatchObject({ Timeout: 29, MemorySize: 512 });
  });

  it('the example recipes give schedules and triggers to check', async () => {
    const entries = await catalog();

    expect(entries.filter((e) => e.recipe.schedule?.enabled).length).toBeGreaterThan(0);
    expect(entries.flatMap((e) => e.recipe.triggers ?? []).length).toBeGreaterThan(0);
  });

  it('every enabled recipe schedule is a Scheduler schedule that starts a bake of that recipe', async () => {
    const entries = await catalog();
    const scheduled = entries.filter((e) => e.recipe.schedule?.enabled);

    for (const { recipe } of scheduled) {
      const props = resource(scheduleLogicalId(recipe.name)).Properties;

      expect(resource(scheduleLogicalId(recipe.name)).Type).toBe('AWS::Scheduler::Schedule');
      expect(props.ScheduleExpression, recipe.name).toBe(recipe.schedule?.expression);
      expect(props.ScheduleExpressionTimezone, recipe.name).toBe(recipe.schedule?.timezone);
      expect(props.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      expect(get(props, 'Target', 'Arn')).toEqual(START_BAKE_ARN);
      expect(get(props, 'Target', 'RoleArn')).toEqual({ 'Fn::GetAtt': [SCHEDULER_ROLE_LOGICAL_ID, 'Arn'] });
      expect(JSON.parse(get(props, 'Target', 'Input') as string)).toEqual({
        recipe: recipe.name,
        source: 'schedule',
      });
      expect(get(props, 'Target', 'RetryPolicy', 'MaximumRetryAttempts')).toBeLessThanOrEqual(3);
    }
    expect(ofType('AWS::Scheduler::Schedule')).toHaveLength(scheduled.length);
  });

  it('schedules assume one role that may only invoke startBake', () => {
    const props = resource(SCHEDULER_ROLE_LOGICAL_ID).Properties;
    const statements = (props.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
      (p) => p.PolicyDocument.Statement,
    );

    expect(get(props, 'AssumeRolePolicyDocument', 'Statement')).toEqual([
      expect.objectContaining({
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
      }),
    ]);
    expect(props.ManagedPolicyArns).toBeUndefined();
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: START_BAKE_ARN },
    ]);
  });

  it('every recipe trigger is a rule with its pattern that passes the event to startBake', async () => {
    const entries = await catalog();
    const event = { source: 'aws.ssm', 'detail-type': 'Parameter Store Change', detail: { name: '/x' } };

    for (const { recipe } of entries) {
      for (const trigger of (recipe.triggers ?? []).filter((t) => t.pattern)) {
        const rule = resource(triggerRuleLogicalId(recipe.name, trigger.name));
        const [target, ...others] = rule.Properties.Targets as Record<string, unknown>[];
        const template = get(target, 'InputTransformer', 'InputTemplate') as string;

        expect(rule.Type).toBe('AWS::Events::Rule');
        expect(rule.Properties.EventPattern).toEqual(trigger.pattern);
        expect(rule.Properties.EventBusName).toEqual(trigger.bus === 'default' ? undefined : trigger.bus);
        expect(others).toEqual([]);
        expect(target?.Arn).toEqual(START_BAKE_ARN);
        // What EventBridge sends: the template with the matched event in place of <aws.events.event>.
        expect(JSON.parse(template.replace('<aws.events.event>', JSON.stringify(event)))).toEqual({
          recipe: recipe.name,
          source: 'trigger',
          trigger: trigger.name,
          event,
        });
        expect(resource(triggerPermissionLogicalId(recipe.name, trigger.name)).Properties).toEqual({
          FunctionName: START_BAKE_ARN,
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [triggerRuleLogicalId(recipe.name, trigger.name), 'Arn'] },
        });
      }
    }
  });

  it("every recipe sns trigger subscribes startBake to its topic, in the topic's region, which alone may invoke it", async () => {
    const topics = (await catalog()).flatMap((e) => (e.recipe.triggers ?? []).flatMap((t) => t.sns ?? []));
    // Lambda subscriptions only: the alarm topic's email subscription is another (test/config/operations.test.ts).
    const subscriptions = ofType('AWS::SNS::Subscription')
      .map(([, r]) => r.Properties)
      .filter((p) => p.Protocol === 'lambda');

    // recipes/example-scheduled.yml listens for new Amazon Linux 2023 images.
    expect(topics).toContain('arn:aws:sns:us-east-1:137112412989:amazon-linux-2023-ami-updates');
    expect(subscriptions).toHaveLength(new Set(topics).size);
    for (const topic of topics) {
      expect(resource(snsTopicLogicalId(topic, 'Subscription')).Properties, topic).toEqual({
        TopicArn: topic,
        Protocol: 'lambda',
        Endpoint: START_BAKE_ARN,
        // The topic's region, not the stack's: SNS subscribes only there.
        Region: topic.split(':')[3],
      });
      expect(resource(snsTopicLogicalId(topic, 'Permission')).Properties, topic).toEqual({
        FunctionName: START_BAKE_ARN,
        Action: 'lambda:InvokeFunction',
        Principal: 'sns.amazonaws.com',
        SourceArn: topic,
      });
    }
  });

  it('a Bake Requested event on the project bus starts a bake with the event as it is', () => {
    const requested = rulesTargeting('startBake').filter((r) =>
      JSON.stringify(r.Properties.EventPattern).includes('Bake Requested'),
    );

    expect(requested).toHaveLength(1);
    // Its source and account filters: "trusting only the catalog" below.
    expect(get(requested[0], 'Properties', 'EventPattern', 'detail-type')).toEqual(['Bake Requested']);
    expect(requested[0]?.Properties.EventBusName).toEqual(PROJECT_BUS);
    expect(get(requested[0], 'Properties', 'Targets', '0', 'InputTransformer')).toBeUndefined();
  });

  it('every rule that targets startBake may invoke it, and only that rule', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) =>
      JSON.stringify(r.Properties.Targets).includes('StartBakeLambdaFunction'),
    );
    const permissions = ofType('AWS::Lambda::Permission')
      .map(([, p]) => p.Properties)
      .filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify(START_BAKE_ARN));

    // At least the Bake Requested rule; recipe pattern triggers add theirs.
    expect(rules.length).toBeGreaterThan(0);
    for (const [id] of rules) {
      expect(permissions, id).toContainEqual(
        expect.objectContaining({
          Principal: 'events.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [id, 'Arn'] },
        }),
      );
    }
  });

  it('the HTTP API has the seven routes and a catch-all, each signed with SigV4 (AWS_IAM), all served by api', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);

    expect(routes.map((r) => r.RouteKey).sort()).toEqual(
      [
        'POST /bakes',
        'GET /bakes',
        'GET /bakes/{bakeId}',
        'POST /bakes/{bakeId}/cancel',
        'GET /recipes',
        'GET /recipes/{name}',
        'POST /recipes/{name}/retire',
        'ANY /{proxy+}',
      ].sort(),
    );
    for (const route of routes) expect(route.AuthorizationType, String(route.RouteKey)).toBe('AWS_IAM');
    const integrations = ofType('AWS::ApiGatewayV2::Integration').map(([, i]) => i.Properties.IntegrationUri);
    expect(integrations).toEqual([{ 'Fn::GetAtt': ['ApiLambdaFunction', 'Arn'] }]);
  });

  it.each(BAKE_STARTERS)('%s carries every recipe file and the files they include', async (key) => {
    const entries = await catalog();

    expect(entries.length).toBeGreaterThan(0);
    for (const { file } of entries) {
      const relative = file.slice(REPO_ROOT.length);
      expect(zipHas(key, relative), relative).toBe(true);
    }
    expect(zipHas(key, 'recipes/example/bootstrap.sh')).toBe(true);
    expect(zipHas('cleanup', 'recipes/')).toBe(false);
  });
});

describe('trusting only the catalog (docs/security.md)', () => {
  it('accepts Bake Requested only from the configured sources and accounts: by default any source but ours, from this account', () => {
    const pattern = resource('BakeRequestedRule').Properties.EventPattern;

    expect(pattern).toEqual({
      'detail-type': ['Bake Requested'],
      source: {
        'Fn::If': ['HasBakeRequestSources', { 'Fn::Split': [',', ''] }, [{ 'anything-but': ['ami-bake'] }]],
      },
      account: {
        'Fn::If': ['HasBakeRequestAccounts', { 'Fn::Split': [',', ''] }, [{ Ref: 'AWS::AccountId' }]],
      },
    });
  });

  it('throttles the HTTP API on every route', () => {
    const settings = get(resource('HttpApiStage').Properties, 'DefaultRouteSettings');

    expect(settings).toEqual({ ThrottlingRateLimit: '5', ThrottlingBurstLimit: '10' });
  });

  it('packages the recipes with resolveRecipe, which loads them by name', () => {
    const zip = readFileSync(join(packageDir, 'resolveRecipe.zip'));

    expect(zip.includes('recipes/example.yml')).toBe(true);
  });
});
