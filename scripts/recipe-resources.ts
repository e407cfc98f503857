/**
 * CloudFormation for the recipe catalog: one EventBridge Scheduler schedule per enabled
 * `schedule`, one EventBridge rule (and its invoke permission) per pattern `trigger`, and one SNS
 * subscription (and its invoke permission) per topic that `sns` triggers name. serverless.yml pulls
 * it in through scripts/recipe-resources.cjs, so adding a recipe file never means editing
 * serverless.yml. See docs/triggers.md.
 *
 *   tsx scripts/recipe-resources.ts [dir]   print the resources as JSON
 */
import { pathToFileURL } from 'node:url';
import type { Schedule } from '../lib/recipe/schedules.js';
import type { Trigger } from '../lib/recipe/triggers.js';
import { type CatalogEntry, CatalogError, loadCatalog } from './catalog.js';

type Json = Record<string, unknown>;

/** Serverless names the function `startBake` like this; the state of every target. */
export const START_BAKE_LOGICAL_ID = 'StartBakeLambdaFunction';
export const SCHEDULER_ROLE_LOGICAL_ID = 'BakeSchedulerRole';
const startBakeArn = { 'Fn::GetAtt': [START_BAKE_LOGICAL_ID, 'Arn'] };

/** `example-web` → `ExampleWeb`: CloudFormation logical ids are alphanumeric. */
export const pascal = (name: string): string =>
  name
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

export const scheduleLogicalId = (recipe: string): string => `Recipe${pascal(recipe)}Schedule`;
export const triggerRuleLogicalId = (recipe: string, trigger: string): string =>
  `Recipe${pascal(recipe)}Trigger${pascal(trigger)}Rule`;
export const triggerPermissionLogicalId = (recipe: string, trigger: string): string =>
  `Recipe${pascal(recipe)}Trigger${pascal(trigger)}Permission`;

/** Topic ARN → `SnsTopic<Region><Account><Name><kind>`: one per topic, however many recipes listen. */
export const snsTopicLogicalId = (topicArn: string, kind: 'Subscription' | 'Permission'): string => {
  const [, , , region = '', account = '', name = ''] = topicArn.split(':');
  const words = (s: string) =>
    pascal(
      s
        .split(/[^A-Za-z0-9]+/)
        .join('-')
        .toLowerCase(),
    );
  return `SnsTopic${words(region)}${account}${words(name)}${kind}`;
};

/** What startBake receives from a schedule. Names are [a-z0-9-], so no JSON escaping is needed. */
export const scheduleInput = (recipe: string): string => JSON.stringify({ recipe, source: 'schedule' });

/** `<aws.events.event>` is EventBridge's placeholder for the whole matched event. */
export const triggerInputTemplate = (recipe: string, trigger: string): string =>
  `{"recipe":${JSON.stringify(recipe)},"source":"trigger","trigger":${JSON.stringify(trigger)},"event":<aws.events.event>}`;

function scheduleResource(recipe: string, schedule: Schedule): Json {
  return {
    Type: 'AWS::Scheduler::Schedule',
    Properties: {
      Description: `ami-bake: bake recipe ${recipe}`,
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: schedule.timezone,
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: startBakeArn,
        RoleArn: { 'Fn::GetAtt': [SCHEDULER_ROLE_LOGICAL_ID, 'Arn'] },
        Input: scheduleInput(recipe),
        // A bake is hours long and skips itself when nothing changed: a late retry is harmless,
        // but a day-old one is noise.
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      },
    },
  };
}

/** One role for every schedule, allowed to invoke startBake and nothing else. */
function schedulerRole(): Json {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'invoke-start-bake',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: startBakeArn }],
          },
        },
      ],
    },
  };
}

/**
 * startBake subscribed to a topic. The subscription is made in the topic's region (AWS announces
 * Amazon Linux releases in us-east-1, whatever region the stack is in); startBake finds the
 * recipes to bake by the message's topic ARN, so recipes sharing a topic share its subscription.
 */
function snsTopicResources(topicArn: string): Record<string, Json> {
  const permissionId = snsTopicLogicalId(topicArn, 'Permission');
  return {
    [snsTopicLogicalId(topicArn, 'Subscription')]: {
      Type: 'AWS::SNS::Subscription',
      DependsOn: [permissionId],
      Properties: {
        TopicArn: topicArn,
        Protocol: 'lambda',
        Endpoint: startBakeArn,
        Region: topicArn.split(':')[3],
      },
    },
    [permissionId]: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: startBakeArn,
        Action: 'lambda:InvokeFunction',
        Principal: 'sns.amazonaws.com',
        SourceArn: topicArn,
      },
    },
  };
}

function triggerResources(recipe: string, trigger: Trigger): Record<string, Json> {
  const ruleId = triggerRuleLogicalId(recipe, trigger.name);
  return {
    [ruleId]: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: `ami-bake: bake recipe ${recipe} (trigger ${trigger.name})`,
        // The default bus is what a rule without EventBusName listens on.
        ...(trigger.bus === undefined || trigger.bus === 'default' ? {} : { EventBusName: trigger.bus }),
        EventPattern: trigger.pattern,
        State: 'ENABLED',
        Targets: [
          {
            Id: 'startBake',
            Arn: startBakeArn,
            InputTransformer: { InputTemplate: triggerInputTemplate(recipe, trigger.name) },
          },
        ],
      },
    },
    [triggerPermissionLogicalId(recipe, trigger.name)]: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: startBakeArn,
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    },
  };
}

/** The `resources` fragment serverless.yml merges: `{ Resources: { … } }`. */
export function recipeResources(entries: readonly CatalogEntry[]): { Resources: Record<string, Json> } {
  const resources: Record<string, Json> = {};
  const owner = new Map<string, string>();
  const add = (id: string, what: string, resource: Json) => {
    // `a-1` and `a1` are both `A1`: refuse rather than let one recipe silently replace another's.
    const previous = owner.get(id);
    if (previous !== undefined) throw new Error(`${what} and ${previous} both become the logical id ${id}`);
    owner.set(id, what);
    resources[id] = resource;
  };
  for (const { file, recipe } of entries) {
    if (recipe.schedule?.enabled)
      add(scheduleLogicalId(recipe.name), `${file} schedule`, scheduleResource(recipe.name, recipe.schedule));
    for (const trigger of recipe.triggers ?? []) {
      if (trigger.sns !== undefined) continue;
      for (const [id, resource] of Object.entries(triggerResources(recipe.name, trigger)))
        add(id, `${file} trigger ${trigger.name}`, resource);
    }
  }
  const topics = new Set(
    entries.flatMap(({ recipe }) => (recipe.triggers ?? []).flatMap((t) => t.sns ?? [])),
  );
  for (const topic of [...topics].sort()) {
    for (const [id, resource] of Object.entries(snsTopicResources(topic)))
      add(id, `SNS topic ${topic}`, resource);
  }
  if (Object.values(resources).some((r) => r.Type === 'AWS::Scheduler::Schedule'))
    add(SCHEDULER_ROLE_LOGICAL_ID, 'the scheduler role', schedulerRole());
  return { Resources: resources };
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    const entries = await loadCatalog(argv.find((a) => !a.startsWith('--')) ?? 'recipes');
    console.log(JSON.stringify(recipeResources(entries)));
    return 0;
  } catch (error) {
    console.error(error instanceof CatalogError ? error.message : String(error));
    return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
