import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CatalogError, loadCatalog } from '../../../scripts/catalog.js';
import {
  recipeResources,
  scheduleLogicalId,
  snsTopicLogicalId,
  triggerPermissionLogicalId,
  triggerRuleLogicalId,
} from '../../../scripts/recipe-resources.js';

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/recipes/${path}`, import.meta.url));
const REPO_RECIPES = fileURLToPath(new URL('../../../recipes', import.meta.url));

const recipeYaml = (name: string, extra = '') =>
  `name: ${name}\nbase:\n  imageId: ami-0123456789abcdef0\nbuilder:\n  instanceType: t3.micro\nbootstrap:\n  script: echo hi\n${extra}`;

function catalogDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ami-bake-catalog-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function catalogError(dir: string): Promise<CatalogError> {
  const error = await loadCatalog(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CatalogError)) throw new Error(`expected a CatalogError, got ${String(error)}`);
  return error;
}

describe('loadCatalog', () => {
  it('loads every recipe in recipes/, at least one with a schedule and a trigger', async () => {
    // Act
    const entries = await loadCatalog(REPO_RECIPES);

    // Assess
    expect(entries.map((e) => e.recipe.name)).toContain('example-web');
    expect(entries.some((e) => e.recipe.schedule?.enabled && (e.recipe.triggers ?? []).length > 0)).toBe(
      true,
    );
  });

  it('loads *.yml and *.yaml in file name order and ignores other files and directories', async () => {
    // Prepare
    const dir = catalogDir({
      'b.yaml': recipeYaml('bravo'),
      'a.yml': recipeYaml('alpha'),
      'notes.md': '# x',
    });

    // Act
    const entries = await loadCatalog(dir);

    // Assess
    expect(entries.map((e) => [e.file, e.recipe.name])).toEqual([
      [join(dir, 'a.yml'), 'alpha'],
      [join(dir, 'b.yaml'), 'bravo'],
    ]);
  });

  it('reports every problem of every bad recipe, by file, in one error', async () => {
    // Prepare
    const dir = catalogDir({
      'good.yml': recipeYaml('good'),
      'one.yml': recipeYaml('one', 'schedule:\n  expression: rate(1 days)\n  timezone: Nowhere/City\n'),
      'two.yml': recipeYaml('Two', 'triggers:\n  - name: loop\n    pattern:\n      source: [ami-bake]\n'),
    });

    // Act
    const error = await catalogError(dir);

    // Assess
    expect(Object.fromEntries(error.problems)).toEqual({
      [join(dir, 'one.yml')]: [
        { path: 'schedule.expression', message: expect.stringContaining('rate(1 day)') },
        { path: 'schedule.timezone', message: expect.stringContaining('unknown time zone') },
      ],
      [join(dir, 'two.yml')]: [
        { path: 'name', message: expect.stringContaining('lowercase') },
        { path: 'triggers.0.pattern.source', message: expect.stringContaining("ami-bake's own events") },
      ],
    });
    expect(error.message).toMatch(/^2 recipes cannot be loaded:\n.*one\.yml: 2 problems/);
  });

  it('refuses two files defining the same recipe name', async () => {
    // Prepare
    const dir = catalogDir({ 'a.yml': recipeYaml('web'), 'b.yml': recipeYaml('web') });

    // Act
    const error = await catalogError(dir);

    // Assess
    expect(Object.fromEntries(error.problems)).toEqual({
      [join(dir, 'b.yml')]: [
        { path: 'name', message: `recipe web is already defined in ${join(dir, 'a.yml')}` },
      ],
    });
  });
});

describe('recipeResources', () => {
  it('makes one schedule, one rule and one permission per pattern trigger, a subscription per SNS topic, and one scheduler role', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'ami-bake-catalog-'));
    cpSync(fixture('valid/scheduled.yml'), join(dir, 'scheduled.yml'));
    const entries = await loadCatalog(dir);

    // Act
    const { Resources } = recipeResources(entries);

    // Assess
    expect(Object.keys(Resources).sort()).toEqual(
      [
        'BakeSchedulerRole',
        'RecipeWebNightlySchedule',
        'SnsTopicUsEast1137112412989AmazonLinux2023AmiUpdatesSubscription',
        'SnsTopicUsEast1137112412989AmazonLinux2023AmiUpdatesPermission',
        'RecipeWebNightlyTriggerSecurityBulletinRule',
        'RecipeWebNightlyTriggerSecurityBulletinPermission',
      ].sort(),
    );
    expect(Resources.RecipeWebNightlyTriggerSecurityBulletinRule?.Properties).toMatchObject({
      EventBusName: 'security-events',
    });
  });

  it('puts a pattern trigger without a bus on the default bus', async () => {
    // Prepare
    const trigger = 'triggers:\n  - name: go\n    pattern:\n      source: [com.example.builds]\n';
    const dir = catalogDir({ 'a.yml': recipeYaml('web', trigger) });

    // Act
    const { Resources } = recipeResources(await loadCatalog(dir));

    // Assess
    expect(Resources.RecipeWebTriggerGoRule?.Properties).not.toHaveProperty('EventBusName');
  });

  it("subscribes startBake once per SNS topic, in the topic's region, and lets only that topic invoke it", async () => {
    // Prepare
    const topic = 'arn:aws:sns:us-east-1:137112412989:amazon-linux-2023-ami-updates';
    const trigger = (name: string) => `triggers:\n  - name: ${name}\n    sns: ${topic}\n`;
    const dir = catalogDir({
      'a.yml': recipeYaml('web', trigger('al2023')),
      'b.yml': recipeYaml('api', trigger('new-base')),
    });
    const startBake = { 'Fn::GetAtt': ['StartBakeLambdaFunction', 'Arn'] };

    // Act
    const { Resources } = recipeResources(await loadCatalog(dir));

    // Assess
    const subscription = snsTopicLogicalId(topic, 'Subscription');
    const permission = snsTopicLogicalId(topic, 'Permission');
    expect(Object.keys(Resources).sort()).toEqual([permission, subscription]);
    expect(Resources[subscription]).toEqual({
      Type: 'AWS::SNS::Subscription',
      // Messages that arrive before startBake may be invoked would be lost.
      DependsOn: [permission],
      Properties: { TopicArn: topic, Protocol: 'lambda', Endpoint: startBake, Region: 'us-east-1' },
    });
    expect(Resources[permission]).toEqual({
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: startBake,
        Action: 'lambda:InvokeFunction',
        Principal: 'sns.amazonaws.com',
        SourceArn: topic,
      },
    });
  });

  it('deploys nothing for a disabled schedule, and no scheduler role without schedules', async () => {
    // Prepare
    const dir = catalogDir({
      'a.yml': recipeYaml('web', 'schedule:\n  expression: rate(1 day)\n  enabled: false\n'),
    });

    // Act
    const { Resources } = recipeResources(await loadCatalog(dir));

    // Assess
    expect(Resources).toEqual({});
  });

  it('derives logical ids from the names, alphanumeric and stable', () => {
    expect(scheduleLogicalId('example-web')).toBe('RecipeExampleWebSchedule');
    expect(triggerRuleLogicalId('example-web', 'base-image-2')).toBe('RecipeExampleWebTriggerBaseImage2Rule');
    expect(triggerPermissionLogicalId('a', 'b')).toBe('RecipeATriggerBPermission');
    expect(snsTopicLogicalId('arn:aws:sns:eu-west-1:123456789012:my_topic-2', 'Subscription')).toBe(
      'SnsTopicEuWest1123456789012MyTopic2Subscription',
    );
  });

  it('refuses two recipes whose names give the same logical id, naming both', async () => {
    // Prepare
    const schedule = 'schedule:\n  expression: rate(1 day)\n';
    const dir = catalogDir({ 'a.yml': recipeYaml('web-1', schedule), 'b.yml': recipeYaml('web1', schedule) });
    const entries = await loadCatalog(dir);

    // Act
    const act = () => recipeResources(entries);

    // Assess
    expect(act).toThrow(
      /b\.yml schedule and .*a\.yml schedule both become the logical id RecipeWeb1Schedule/,
    );
  });
});
