import type { Tag } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../aws/ec2.js';
import { logger } from '../logger.js';
import type { CleanupReport } from '../state.js';
import { fromTags, TAG } from '../tags.js';
import type { KnownResources } from './known.js';

/** One region's share of a cleanup attempt; `report` is shared by all regions. */
export interface RegionRun {
  region: string;
  bakeId: string;
  ec2: Ec2Send;
  known: KnownResources;
  now: Date;
  report: CleanupReport;
}

export const ours = (run: RegionRun, tags: Tag[] | undefined) => fromTags(tags)[TAG.bakeId] === run.bakeId;

export function notOurs(run: RegionRun, kind: string, id: string) {
  logger.warn(`${kind} ${id} in ${run.region} is named in the state but lacks this bake's tag; left alone`);
}

/** Adds a removed resource to the report once (an attempt may meet it by tag and by id). */
export function add<T extends object>(list: T[], item: T) {
  const key = JSON.stringify(item);
  if (!list.some((x) => JSON.stringify(x) === key)) list.push(item);
}
