import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { SfnSend } from '../aws/sfn.js';
import { type BakeStatusName, recipeOfBakeId } from './status.js';

export interface BakeListItem {
  bakeId: string;
  recipe: string;
  status: string;
  executionArn: string;
  startedAt?: string;
  stoppedAt?: string;
}

export interface ListQuery {
  recipe?: string;
  status?: BakeStatusName;
  limit: number;
}

/**
 * ListExecutions has no name filter, so a recipe filter reads pages until `limit` bakes match.
 * Bounded: a recipe not baked in the last MAX_SCANNED executions lists what was found.
 */
export const MAX_SCANNED = 5000;

/** Recent bakes, newest first (the order ListExecutions returns them in). */
export async function listBakes(
  sfn: SfnSend,
  stateMachineArn: string,
  query: ListQuery,
): Promise<BakeListItem[]> {
  const found: BakeListItem[] = [];
  let scanned = 0;
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn,
        statusFilter: query.status,
        maxResults: query.recipe ? 1000 : query.limit,
        nextToken,
      }),
    );
    for (const e of page.executions ?? []) {
      scanned += 1;
      const bakeId = e.name ?? '';
      if (query.recipe && recipeOfBakeId(bakeId) !== query.recipe) continue;
      found.push({
        bakeId,
        recipe: recipeOfBakeId(bakeId),
        status: e.status ?? 'UNKNOWN',
        executionArn: e.executionArn ?? '',
        startedAt: e.startDate?.toISOString(),
        stoppedAt: e.stopDate?.toISOString(),
      });
    }
    nextToken = page.nextToken;
  } while (nextToken && found.length < query.limit && scanned < MAX_SCANNED);
  return found.sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '')).slice(0, query.limit);
}
