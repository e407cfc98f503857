import * as z from 'zod';
import { resultKey } from '../workflow/states.js';

/**
 * Resources the execution's state names by id. Cleanup removes them even when tag lookups do not
 * show them yet (describes with filters lag for seconds after a create call), and reports them
 * on a retried attempt once they are gone.
 */
export interface KnownResources {
  /** Builders, with the time LaunchBuilder returned them (a NotFound minutes later means "not visible yet"). */
  instances: { region: string; instanceId: string; launchedAt?: string }[];
  images: { region: string; imageId: string }[];
  snapshots: { region: string; snapshotId: string }[];
}

/** Each part lenient on its own: a failed bake may lack any of them, or carry a malformed one. */
const lenient = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
const snapshotIds = z.array(z.string()).catch([]);
// Keyed by the states' result keys (lib/workflow/states.ts): a renamed key fails to compile below.
const stateSchema = z.object({
  [resultKey('LaunchBuilder')]: lenient(
    z.object({ instanceId: z.string(), region: z.string(), at: z.string().optional() }),
  ),
  [resultKey('CreateImage')]: lenient(z.object({ imageId: z.string(), region: z.string() })),
  [resultKey('WaitForImage')]: lenient(
    z.object({ imageId: z.string(), region: z.string().optional(), snapshotIds }),
  ),
  [resultKey('CopyImages')]: lenient(
    z.array(z.object({ region: z.string(), imageId: z.string(), snapshotIds: snapshotIds.optional() })),
  ),
  [resultKey('FinalizeImage')]: lenient(
    z.object({ images: z.record(z.string(), z.object({ imageId: z.string(), snapshotIds })) }),
  ),
});

/**
 * The ids in `$.builder`, `$.image`, `$.imageReady`, `$.copies` and `$.finalized`. A CopyImages
 * Map that failed leaves no partial results in the state (Step Functions keeps only the error),
 * so copies of a failed Map are found by tag only.
 */
export function knownResources(state: unknown): KnownResources {
  const parsed = stateSchema.safeParse(state);
  const s = parsed.success ? parsed.data : {};
  const known: KnownResources = { instances: [], images: [], snapshots: [] };
  if (s.builder) {
    known.instances.push({
      region: s.builder.region,
      instanceId: s.builder.instanceId,
      launchedAt: s.builder.at,
    });
  }
  const images: { region: string; imageId: string; snapshotIds?: string[] }[] = [];
  if (s.image) images.push({ region: s.image.region, imageId: s.image.imageId });
  const readyRegion = s.imageReady?.region ?? s.image?.region;
  if (s.imageReady && readyRegion) images.push({ ...s.imageReady, region: readyRegion });
  images.push(...(s.copies ?? []));
  for (const [region, image] of Object.entries(s.finalized?.images ?? {})) images.push({ region, ...image });
  for (const { region, imageId, snapshotIds: ids = [] } of images) {
    if (!known.images.some((i) => i.region === region && i.imageId === imageId)) {
      known.images.push({ region, imageId });
    }
    for (const snapshotId of ids) {
      if (!known.snapshots.some((x) => x.region === region && x.snapshotId === snapshotId)) {
        known.snapshots.push({ region, snapshotId });
      }
    }
  }
  return known;
}
