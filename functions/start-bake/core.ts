import { z } from 'zod';
import type { StartRequest } from '../../lib/start/request.js';

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
