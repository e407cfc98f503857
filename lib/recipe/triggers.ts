import * as z from 'zod';
import { mayMatch } from './pattern-match.js';
import { whenParsed } from './when-parsed.js';

/** Events ami-bake publishes itself: a trigger on them could start bakes from bakes, forever. */
const OWN_EVENT_SOURCE = 'ami-bake';
const OWN_DETAIL_TYPES = ['Bake Requested', 'Bake Started', 'Bake Succeeded', 'Bake Failed', 'Bake Skipped'];

const mayMatchOwnSource = (matchers: readonly unknown[]) => mayMatch(OWN_EVENT_SOURCE, matchers);

/** EventBridge matches lists of values at the leaves; a bare string or number never matches. */
function patternLeafProblems(value: unknown, path: (string | number)[], ctx: z.RefinementCtx): void {
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === '$or') {
      if (!Array.isArray(v) || v.length < 2 || v.some((b) => b === null || typeof b !== 'object'))
        ctx.addIssue({
          code: 'custom',
          path: [...path, key],
          message: '$or must be a list of at least two patterns',
        });
      else
        v.forEach((b, i) => {
          patternLeafProblems(b, [...path, key, i], ctx);
        });
    } else if (Array.isArray(v)) {
      if (v.length === 0)
        ctx.addIssue({ code: 'custom', path: [...path, key], message: 'an empty list matches nothing' });
    } else if (v !== null && typeof v === 'object') {
      patternLeafProblems(v, [...path, key], ctx);
    } else {
      ctx.addIssue({
        code: 'custom',
        path: [...path, key],
        message: `must be a list of values to match, e.g. [${JSON.stringify(v)}]`,
      });
    }
  }
}

const PUBLIC_PARAMETER_MESSAGE =
  "Parameter Store Change events for AWS's public parameters (/aws/...) are never delivered to your account: " +
  'trigger on the SNS topic AWS announces new images on instead, e.g. sns: arn:aws:sns:us-east-1:137112412989:amazon-linux-2023-ami-updates ' +
  '(docs/triggers.md), or rely on a schedule (a bake whose base image is unchanged skips itself)';

/** A pattern on Parameter Store changes of AWS's public parameters (`/aws/service/...`): it never fires. */
function matchesPublicParameterChange(p: Record<string, unknown>): boolean {
  const source = p.source;
  if (Array.isArray(source) && !source.includes('aws.ssm')) return false;
  const names = (p.detail as { name?: unknown } | undefined)?.name;
  if (!Array.isArray(names)) return false;
  const isPublic = (v: unknown) => typeof v === 'string' && v.startsWith('/aws/');
  return names.some(
    (m) =>
      isPublic(m) ||
      (m !== null && typeof m === 'object' && Object.values(m as Record<string, unknown>).some(isPublic)),
  );
}

export const eventPatternSchema = z
  .record(z.string(), z.json())
  .describe(
    'An EventBridge event pattern, e.g. { source: [aws.ssm], detail-type: [Parameter Store Change] }.',
  )
  .superRefine((p, ctx) => {
    if (!['source', 'detail-type', 'detail'].some((k) => k in p)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a pattern needs at least one of source, detail-type or detail',
      });
      return;
    }
    patternLeafProblems(p, [], ctx);
    if (matchesPublicParameterChange(p)) {
      ctx.addIssue({ code: 'custom', path: ['detail', 'name'], message: PUBLIC_PARAMETER_MESSAGE });
    }
    const ownDetailType =
      Array.isArray(p['detail-type']) &&
      OWN_DETAIL_TYPES.some((d) => mayMatch(d, p['detail-type'] as unknown[]));
    if ((Array.isArray(p.source) && mayMatchOwnSource(p.source)) || (!('source' in p) && ownDetailType)) {
      ctx.addIssue({
        code: 'custom',
        path: ['source'],
        message: `must not match ami-bake's own events (source ${OWN_EVENT_SOURCE}): a bake would trigger bakes in a loop`,
      });
    }
  });

const triggerFieldsParsed = whenParsed('pattern', 'sns', 'bus', 'force');

export const triggerSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/,
        'must be lowercase letters, digits and dashes (at most 64), not starting or ending with a dash',
      ),
    pattern: eventPatternSchema.optional(),
    sns: z
      .string()
      // Lambda cannot subscribe to a FIFO topic: no `.fifo` names.
      .regex(
        /^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/,
        'must be the ARN of a standard SNS topic, e.g. arn:aws:sns:us-east-1:137112412989:amazon-linux-2023-ami-updates',
      )
      .optional()
      .describe('Bake when a message arrives on this SNS topic (any region or account that allows it).'),
    bus: z
      .string()
      .regex(
        /^([\w.\-/]{1,256}|arn:aws[\w-]*:events:[\w-]+:\d{12}:event-bus\/[\w.\-/]+)$/,
        'must be an event bus name or ARN',
      )
      .optional()
      .describe('The event bus a pattern trigger listens on. Default: the default bus.'),
    force: z
      .boolean()
      .default(false)
      .describe('Bake even if images of this recipe and base image already exist.'),
  })
  .superRefine((t, ctx) => {
    if ((t.pattern === undefined) === (t.sns === undefined))
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of pattern (an EventBridge event pattern) or sns (a topic ARN)',
      });
    if (t.sns !== undefined && t.bus !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['bus'],
        message: 'bus is for pattern triggers; an sns trigger subscribes to its topic',
      });
    if (t.force && t.pattern && mayMatchOwnImages(t.pattern))
      ctx.addIssue({
        code: 'custom',
        path: ['force'],
        message:
          'a forced trigger on EC2 AMI State Change events also fires for the images this stack creates: every bake would start another. Drop force (an unchanged recipe and base image skip themselves) or match only images you do not bake',
      });
  }, triggerFieldsParsed);

/** Could this pattern match the EC2 event of an image of ours becoming available? */
function mayMatchOwnImages(p: Record<string, unknown>): boolean {
  const field = (k: string, v: string) => !Array.isArray(p[k]) || mayMatch(v, p[k] as unknown[]);
  if (!('source' in p) && !('detail-type' in p)) return false;
  return field('source', 'aws.ec2') && field('detail-type', 'EC2 AMI State Change');
}

export const triggersSchema = z
  .array(triggerSchema)
  .max(20)
  .superRefine((triggers, ctx) => {
    const seen = new Set<string>();
    triggers.forEach((t, i) => {
      // A trigger that failed its own checks may hold anything, but its name still counts.
      const name = (t as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') return;
      if (seen.has(name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `trigger ${name} is named twice` });
      seen.add(name);
    });
  }, whenParsed());

export type Trigger = z.output<typeof triggerSchema>;
export type EventPattern = z.output<typeof eventPatternSchema>;
