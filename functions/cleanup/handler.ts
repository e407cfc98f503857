import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { sfn } from '../../lib/aws/sfn.js';
import { stopMembers } from '../../lib/bakes/members.js';
import { cleanup } from '../../lib/cleanup/core.js';
import { knownResources } from '../../lib/cleanup/known.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { AWS_REGIONS } from '../../lib/regions.js';

/**
 * Lenient on purpose: cleanup must run even when the bake's input was what failed validation.
 * The Cleanup state passes the whole execution state: the bake id, the recipe's regions, and the
 * ids earlier states returned (`$.builder`, `$.image`, `$.imageReady`, `$.copies`, `$.finalized`).
 */
const input = z
  .object({
    bakeId: z.string().min(1),
    recipe: z
      .object({
        distribution: z
          .object({ regions: z.array(z.unknown()) })
          .partial()
          .optional(),
        builder: z.object({ spot: z.unknown() }).partial().optional().catch(undefined),
      })
      .optional()
      .catch(undefined),
    // A group's request: its children's bake ids (ResolveRecipe's context.architectures).
    context: z
      .object({ architectures: z.array(z.object({ bakeId: z.string().min(1) })).optional() })
      .optional()
      .catch(undefined),
  })
  .loose();

const isRegion = (r: unknown): r is string => (AWS_REGIONS as readonly unknown[]).includes(r);

export const handler = makeHandler(input, async (state) => {
  const members = (state.context?.architectures ?? []).map((a) => a.bakeId);
  const c = config();
  // A request whose architecture failed: its other children may still be running (and creating).
  if (members.length > 0 && c.STATE_MACHINE_ARN) {
    await stopMembers(sfn(c.AWS_REGION), c.STATE_MACHINE_ARN, members, {
      error: 'BakeRequestFailed',
      cause: `another architecture of bake ${state.bakeId} failed; the request is cleaned up`,
    });
  }
  const targets = (state.recipe?.distribution?.regions ?? []).filter(isRegion);
  const known = knownResources(state);
  // Ids come from our own state; a region that is not an AWS region is not one we would call.
  const inRegion = <T extends { region: string }>(items: T[]) => items.filter((i) => isRegion(i.region));
  return cleanup(
    {
      bakeId: state.bakeId,
      regions: [c.AWS_REGION, ...targets],
      known: {
        instances: inRegion(known.instances),
        images: inRegion(known.images),
        snapshots: inRegion(known.snapshots),
      },
      members,
      spot: state.recipe?.builder?.spot !== undefined,
    },
    { ec2, now: () => new Date() },
  );
});
