import * as z from 'zod';
import type { CatalogEntry } from '../../lib/recipe/catalog.js';
import type { StartRequest } from '../../lib/start/request.js';

/** What Lambda receives from an SNS subscription: the topic says which recipes to bake. */
const snsEventSchema = z.object({
  Records: z
    .array(
      z
        .object({
          EventSource: z.literal('aws:sns'),
          Sns: z.object({ TopicArn: z.string(), MessageId: z.string() }).loose(),
        })
        .loose(),
    )
    .min(1),
});

/**
 * What starts a bake without a person: a recipe schedule or trigger (a direct request built by
 * the Scheduler target or the rule's input transformer), or a *Bake Requested* event.
 */
export const startBakeEventSchema = z.union([
  z.object({
    recipe: z.string(),
    source: z.enum(['schedule', 'trigger']),
    reason: z.string().optional(),
    trigger: z.string().optional(),
    event: z
      .object({
        id: z.string().optional(),
        source: z.string().optional(),
        'detail-type': z.string().optional(),
      })
      .loose()
      .optional(),
  }),
  z.object({
    'detail-type': z.literal('Bake Requested'),
    source: z.string(),
    /** Absent only in events the local emulator delivers. */
    account: z.string().optional(),
    detail: z.object({
      recipe: z.string(),
      overrides: z.unknown().optional(),
      reason: z.string().optional(),
      idempotencyKey: z.string().optional(),
      force: z.boolean().optional(),
    }),
  }),
]);
export type StartBakeEvent = z.infer<typeof startBakeEventSchema>;

/** What the startBake function receives: one of those, or a message on a topic an `sns` trigger names. */
export const startBakeInputSchema = z.union([snsEventSchema, startBakeEventSchema]);
export type StartBakeInput = z.infer<typeof startBakeInputSchema>;

/**
 * The bakes an event asks for. An SNS message names no recipe: every recipe with an `sns` trigger
 * on its topic is baked (they share one subscription, see scripts/recipe-resources.ts); the
 * trigger's name makes its `force` apply. A message for a topic no recipe names starts nothing.
 */
export function toStartRequests(event: StartBakeInput, catalog: readonly CatalogEntry[]): StartRequest[] {
  if (!('Records' in event)) return [toStartRequest(event)];
  return event.Records.flatMap(({ Sns }) =>
    catalog.flatMap(({ recipe }) =>
      (recipe.triggers ?? [])
        .filter((t) => t.sns === Sns.TopicArn)
        .map((t) => ({
          recipe: recipe.name,
          source: 'trigger' as const,
          trigger: t.name,
          reason: `trigger ${t.name} (sns ${Sns.TopicArn} ${Sns.MessageId})`,
        })),
    ),
  );
}

export function toStartRequest(event: StartBakeEvent): StartRequest {
  if ('detail' in event) {
    const d = event.detail;
    return {
      recipe: d.recipe,
      overrides: d.overrides as StartRequest['overrides'],
      reason: d.reason ?? `Bake Requested by ${event.source}`,
      idempotencyKey: d.idempotencyKey,
      force: d.force ?? false,
      source: 'event',
    };
  }
  const cause = event.event
    ? ` (${event.event.source ?? '?'} ${event.event['detail-type'] ?? ''} ${event.event.id ?? ''})`.trimEnd()
    : '';
  return {
    recipe: event.recipe,
    source: event.source,
    trigger: event.trigger,
    reason:
      event.reason ?? (event.source === 'trigger' ? `trigger ${event.trigger ?? ''}${cause}` : 'schedule'),
  };
}
