import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { publishEvent } from '../../../functions/publish-event/core.js';
import { type DetailType, EVENT_DETAILS, EVENT_SOURCE } from '../../../lib/events.js';

const docs = readFileSync(fileURLToPath(new URL('../../../docs/events.md', import.meta.url)), 'utf8');
const jsonBlocks = [...docs.matchAll(/```json\n([\s\S]*?)\n```/g)].map(
  (m) => JSON.parse(m[1] ?? '') as Record<string, unknown>,
);

interface DocEvent {
  'detail-type': DetailType;
  source: string;
  detail: Record<string, unknown>;
}
const docEvents = jsonBlocks.filter(
  (b): b is DocEvent & Record<string, unknown> => typeof b['detail-type'] === 'string',
);
const docPatterns = jsonBlocks.filter((b) => Array.isArray(b.source));
const exampleOf = (type: DetailType): Record<string, unknown> => {
  const event = docEvents.find((e) => e['detail-type'] === type);
  if (!event) throw new Error(`docs/events.md has no example of ${type}`);
  return structuredClone(event.detail);
};

/** Just enough of EventBridge matching for the documented rules: exact values, nested objects. */
function matches(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern))
    return pattern.some((p) => (Array.isArray(value) ? value.includes(p) : p === value));
  if (typeof pattern !== 'object' || pattern === null || typeof value !== 'object' || value === null)
    return false;
  return Object.entries(pattern).every(([k, p]) => matches(p, (value as Record<string, unknown>)[k]));
}

const issuePaths = (schema: z.ZodType, detail: unknown) =>
  (schema.safeParse(detail).error?.issues ?? []).map((i) => i.path.join('.'));

describe('the examples in docs/events.md', () => {
  it('show a full event for each detail type', () => {
    // Act
    const types = docEvents.map((e) => e['detail-type']);

    // Assess
    expect(new Set(types)).toEqual(new Set(Object.keys(EVENT_DETAILS)));
  });

  it.each(Object.keys(EVENT_DETAILS) as DetailType[])(
    'have a %s detail that validates and shows every field',
    (type) => {
      // Prepare
      const schema = EVENT_DETAILS[type];
      const event = docEvents.find((e) => e['detail-type'] === type);

      // Act
      const parsed = schema.safeParse(event?.detail);

      // Assess
      expect(event?.source).toBe(EVENT_SOURCE);
      expect(parsed.error?.issues ?? []).toEqual([]);
      // Every field, in the first example or another of the same type (several architectures).
      const shown = docEvents.filter((e) => e['detail-type'] === type).flatMap((e) => Object.keys(e.detail));
      expect([...new Set(shown)].sort()).toEqual(Object.keys(schema.shape).sort());
      for (const other of docEvents.filter((e) => e['detail-type'] === type))
        expect(schema.safeParse(other.detail).error?.issues ?? []).toEqual([]);
    },
  );

  it.each(docPatterns.map((pattern) => ({ pattern, name: JSON.stringify(pattern) })))(
    'have a rule pattern that matches one example event and not the others: $name',
    ({ pattern }) => {
      // Act
      const matched = docEvents.filter((e) => matches(pattern, e)).map((e) => e['detail-type']);

      // Assess
      expect(matched).toHaveLength(1);
    },
  );
});

describe('event detail schemas reject a wrong detail at the path of the wrong field', () => {
  it.each([
    {
      wrong: 'Bake Started without a bakeId',
      type: 'Bake Started' as const,
      change: (d: Record<string, unknown>) => {
        delete d.bakeId;
      },
      paths: ['bakeId'],
    },
    {
      wrong: 'Bake Started with an i386 base image',
      type: 'Bake Started' as const,
      change: (d: Record<string, unknown>) => {
        (d.base as Record<string, unknown>).architecture = 'i386';
      },
      paths: ['base.architecture'],
    },
    {
      wrong: 'Bake Started with one target region as a string',
      type: 'Bake Started' as const,
      change: (d: Record<string, unknown>) => {
        d.targetRegions = 'eu-west-1';
      },
      paths: ['targetRegions'],
    },
    {
      wrong: 'Bake Succeeded with an image without snapshotIds',
      type: 'Bake Succeeded' as const,
      change: (d: Record<string, unknown>) => {
        delete (d.images as Record<string, Record<string, unknown>>)['eu-west-1']?.snapshotIds;
      },
      paths: ['images.eu-west-1.snapshotIds'],
    },
    {
      wrong: 'Bake Succeeded with a negative stage duration',
      type: 'Bake Succeeded' as const,
      change: (d: Record<string, unknown>) => {
        (d.stages as Record<string, number>).CreateImage = -1;
      },
      paths: ['stages.CreateImage'],
    },
    {
      wrong: 'Bake Failed without a stage',
      type: 'Bake Failed' as const,
      change: (d: Record<string, unknown>) => {
        delete d.stage;
      },
      paths: ['stage'],
    },
    {
      wrong: 'Bake Failed whose cleanup report lacks problems',
      type: 'Bake Failed' as const,
      change: (d: Record<string, unknown>) => {
        delete (d.cleanup as Record<string, unknown>).problems;
      },
      paths: ['cleanup.problems'],
    },
    {
      wrong: 'Bake Failed with a terminated instance without its region',
      type: 'Bake Failed' as const,
      change: (d: Record<string, unknown>) => {
        (d.cleanup as { terminatedInstances: Record<string, unknown>[] }).terminatedInstances = [
          { instanceId: 'i-0123456789abcdef0' },
        ];
      },
      paths: ['cleanup.terminatedInstances.0.region'],
    },
  ])('rejects $wrong', ({ type, change, paths }) => {
    // Prepare
    const detail = exampleOf(type);
    change(detail);

    // Act
    const rejected = issuePaths(EVENT_DETAILS[type], detail);

    // Assess
    expect(rejected).toEqual(paths);
  });

  it('accepts a Bake Failed without a recipe hash (the bake failed before it was computed)', () => {
    // Prepare
    const detail = exampleOf('Bake Failed');
    delete (detail.recipe as Record<string, unknown>).hash;

    // Act
    const rejected = issuePaths(EVENT_DETAILS['Bake Failed'], detail);

    // Assess
    expect(rejected).toEqual([]);
  });
});

describe('the Bake Failed event PublishEvent sends', () => {
  it('names the failed state as stage, the error name as error and the Lambda error message as cause', async () => {
    // Prepare
    const eventBridge = mockClient(EventBridgeClient);
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const cause = JSON.stringify({
      errorType: 'ImageFailedError',
      errorMessage: 'image ami-0fedcba9876543210 in eu-west-1 is failed',
    });
    const bake = {
      bakeId: 'bake-0001',
      recipe: { name: 'example-web' },
      failure: { CopyImages: { Error: 'ImageFailedError', Cause: cause } },
      cleanup: { terminatedInstances: [], deregisteredImages: [], deletedSnapshots: [], problems: [] },
    };

    // Act
    await publishEvent(
      { detailType: 'Bake Failed', bake },
      {
        events: new EventBridgeClient({ region: 'us-east-1' }),
        busName: 'ami-bake-test',
        now: () => new Date('2026-01-26T10:53:01.877Z'),
      },
    );

    // Assess
    const entry = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({
      Source: 'ami-bake',
      DetailType: 'Bake Failed',
      EventBusName: 'ami-bake-test',
    });
    expect(JSON.parse(entry?.Detail ?? '{}')).toEqual({
      bakeId: 'bake-0001',
      recipe: { name: 'example-web' },
      stage: 'CopyImages',
      region: 'eu-west-1',
      error: 'ImageFailedError',
      cause: 'image ami-0fedcba9876543210 in eu-west-1 is failed',
      cleanup: { terminatedInstances: [], deregisteredImages: [], deletedSnapshots: [], problems: [] },
      finishedAt: '2026-01-26T10:53:01.877Z',
    });
  });
});
