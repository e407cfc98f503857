import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS, METRICS_NAMESPACE } from '../../lib/metrics.js';
import { REPO_ROOT } from './asl.js';
import { packagedTemplate } from './package-template.js';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Condition?: string;
}
type Template = { Resources: Record<string, Resource> };

let resources: Record<string, Resource>;
const operationsDoc = readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8');
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

/** The alarms the stack must have, by what each watches (docs/operations.md has a section for each). */
const ALARMS = {
  'bake-failed': 'BakesFailed',
  'cleanup-incomplete': 'CleanupIncomplete',
  'event-not-published': 'EventsNotPublished',
  'leftovers-swept': 'LeftoversRemoved',
  'events-missed': 'WaitsAnswered',
  'bake-over-budget': 'BakesOverBudget',
  'start-failed': 'ApproximateNumberOfMessagesVisible',
} as const;

beforeAll(() => {
  resources = packagedTemplate<Template>().template.Resources;
});

describe('tracing in the packaged template', () => {
  it('is active on every function, and every function role may write traces', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(10);
    for (const [id, fn] of functions) {
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const policy = JSON.stringify(resources[roleId]?.Properties.Policies);
      expect(policy, `${id}'s role ${roleId}`).toContain('xray:PutTraceSegments');
    }
  });

  it('is on for the state machine, so one bake is one trace', () => {
    const [[, machine] = []] = ofType('AWS::StepFunctions::StateMachine');
    expect(machine?.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });
});

describe('the alarms in the packaged template', () => {
  const alarmNamed = (suffix: string) =>
    ofType('AWS::CloudWatch::Alarm').find(([, a]) => String(a.Properties.AlarmName).endsWith(`-${suffix}`));

  it.each(Object.entries(ALARMS))('has %s, watching %s, notifying the alarm topic', (suffix, metric) => {
    const [, alarm] = alarmNamed(suffix) ?? expect.fail(`no alarm named …-${suffix}`);
    expect(alarm.Properties.MetricName).toBe(metric);
    expect(JSON.stringify(alarm.Properties.AlarmActions)).toContain('AlarmTopic');
    expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
    if (alarm.Properties.Namespace === METRICS_NAMESPACE) {
      // An alarm cannot search: it watches the aggregate every metric is emitted under.
      const dims = (alarm.Properties.Dimensions as { Name: string }[])
        .map((d) => d.Name)
        .filter((d) => d !== 'service');
      expect(METRICS[metric as keyof typeof METRICS].dimensions.map((d) => d.join())).toContain(dims.join());
    }
    expect(operationsDoc, `docs/operations.md explains ${suffix}`).toContain(`### ${suffix}`);
  });

  it('sends bake starts that failed on the asynchronous paths to the dead-letter queue the start-failed alarm watches', () => {
    const [, config] =
      ofType('AWS::Lambda::EventInvokeConfig').find(([, c]) =>
        JSON.stringify(c.Properties.FunctionName).includes('StartBakeLambdaFunction'),
      ) ?? expect.fail('startBake has no event invoke config');
    expect(JSON.stringify(config.Properties.DestinationConfig)).toContain('StartBakeDeadLetterQueue');
    const [, alarm] = alarmNamed('start-failed') ?? expect.fail('no start-failed alarm');
    expect(JSON.stringify(alarm.Properties.Dimensions)).toContain('StartBakeDeadLetterQueue');
  });

  it('subscribes the alarmEmail parameter only when it is given', () => {
    const [, subscription] = ofType('AWS::SNS::Subscription')[0] ?? expect.fail('no subscription');
    expect(subscription.Condition).toBe('HasAlarmEmail');
    expect(subscription.Properties.Protocol).toBe('email');
  });
});

describe('the dashboard in the packaged template', () => {
  const body = () => {
    const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0] ?? expect.fail('no dashboard');
    const [text] = (dashboard.Properties.DashboardBody as { 'Fn::Sub': [string, unknown] })['Fn::Sub'];
    // Fn::Sub placeholders become strings; what is left must be the JSON CloudWatch reads.
    return JSON.parse(text.replace(/\$\{[^}]+\}/g, 'x')) as { widgets: { properties: { title?: string } }[] };
  };

  it('is valid dashboard JSON with the widgets the operators read', () => {
    const titles = body().widgets.map((w) => w.properties.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Bakes per day by outcome',
        'Failures by stage',
        'Stage duration p50 (s)',
        'Stage duration p95 (s)',
        'Cost per bake (USD, estimate)',
        'Leftovers swept',
        'Waits answered: events vs reconciler',
      ]),
    );
  });

  it('reads only metrics the functions emit', () => {
    const named = [
      ...JSON.stringify(body()).matchAll(/"AmiBake\\?",\\?"(\w+)\\?"|MetricName=\\\\?"(\w+)/g),
    ].map((m) => m[1] ?? m[2]);
    expect(named.length).toBeGreaterThan(8);
    for (const name of named) expect(Object.keys(METRICS), name).toContain(name);
  });
});

describe('docs/operations.md', () => {
  it('explains every metric', () => {
    for (const name of Object.keys(METRICS)) expect(operationsDoc, name).toContain(`| \`${name}\` |`);
  });
});
