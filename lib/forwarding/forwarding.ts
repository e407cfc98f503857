import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import type { EventsSend } from '../aws/eventbridge.js';
import type { CatalogEntry } from '../recipe/catalog.js';
import { TAG } from '../tags.js';

/**
 * EC2 sends its AMI State Change events only to the default bus of the region where the image
 * changed. A rule on the default bus of every other distribution region forwards them to the home
 * region's default bus (an EventBridge cross-Region target), where resumeWait's rule sees them.
 * docs/decisions/0003-forward-ec2-events.md.
 */
export interface ForwardingSpec {
  /** The stack's region: its default bus receives the forwarded events; no rule is put here. */
  homeRegion: string;
  /** `<service>-<stage>`: the rule's name prefix and its `ami-bake:stack` tag value. */
  stack: string;
  /** The home region's default bus ARN. */
  homeBusArn: string;
  /** The role EventBridge assumes to PutEvents on the home bus (required for cross-Region targets). */
  roleArn: string;
}

export interface ForwardingDeps {
  events: (region: string) => EventsSend;
}

export const TARGET_ID = 'home-default-bus';
export const forwardingRuleName = (stack: string) => `${stack}-forward-ec2-images`;

/** What resumeWait acts on for images; nothing else crosses regions (each event costs). */
export const FORWARDED_PATTERN = {
  source: ['aws.ec2'],
  'detail-type': ['EC2 AMI State Change'],
  detail: { State: ['available', 'failed', 'deregistered'] },
} as const;

/** The regions bakes of the catalog can copy to: each recipe's own and the ones a request may add. */
export function catalogRegions(catalog: readonly CatalogEntry[]): string[] {
  const regions = catalog.flatMap((e) => [
    ...e.recipe.distribution.regions,
    ...(e.recipe.overrides?.regions ?? []),
  ]);
  return [...new Set(regions)].sort();
}

/**
 * Puts (or updates: PutRule and PutTargets are upserts) the forwarding rule in each region. The
 * regions are independent: done side by side.
 */
export async function forwardRegions(
  regions: readonly string[],
  spec: ForwardingSpec,
  deps: ForwardingDeps,
): Promise<string[]> {
  return eachRegion(remote(regions, spec), async (region) => {
    const events = deps.events(region);
    const Name = forwardingRuleName(spec.stack);
    await events.send(
      new PutRuleCommand({
        Name,
        Description: `${spec.stack} - forward EC2 AMI state changes to ${spec.homeRegion}, where bakes wait for them`,
        EventPattern: JSON.stringify(FORWARDED_PATTERN),
        State: 'ENABLED',
        Tags: [{ Key: TAG.stack, Value: spec.stack }],
      }),
    );
    const { FailedEntryCount, FailedEntries } = await events.send(
      new PutTargetsCommand({
        Rule: Name,
        Targets: [{ Id: TARGET_ID, Arn: spec.homeBusArn, RoleArn: spec.roleArn }],
      }),
    );
    if (FailedEntryCount) {
      const [entry] = FailedEntries ?? [];
      throw new ForwardingError(region, `${entry?.ErrorCode}: ${entry?.ErrorMessage}`);
    }
    return region;
  });
}

/** Removes the forwarding rule from each region; a rule already gone is fine (safe to run twice). */
export async function unforwardRegions(
  regions: readonly string[],
  spec: Pick<ForwardingSpec, 'homeRegion' | 'stack'>,
  deps: ForwardingDeps,
): Promise<string[]> {
  return eachRegion(remote(regions, spec), async (region) => {
    const events = deps.events(region);
    const Name = forwardingRuleName(spec.stack);
    await ifExists(events.send(new RemoveTargetsCommand({ Rule: Name, Ids: [TARGET_ID] })));
    await ifExists(events.send(new DeleteRuleCommand({ Name })));
    return region;
  });
}

/**
 * The regions whose EC2 image events reach the home bus: an enabled forwarding rule whose target is
 * the home default bus. The local runner asks this before delivering another region's event.
 */
export async function forwardedRegions(
  regions: readonly string[],
  spec: Pick<ForwardingSpec, 'homeRegion' | 'stack' | 'homeBusArn'>,
  deps: ForwardingDeps,
): Promise<Map<string, Record<string, unknown>>> {
  const found = await eachRegion(remote(regions, spec), async (region) => {
    const events = deps.events(region);
    const Rule = forwardingRuleName(spec.stack);
    const rule = await ifExists(events.send(new DescribeRuleCommand({ Name: Rule })));
    if (rule?.State !== 'ENABLED' || !rule.EventPattern) return undefined;
    const { Targets = [] } = await events.send(new ListTargetsByRuleCommand({ Rule }));
    const toHome = Targets.some((t) => t.Arn === spec.homeBusArn);
    return toHome ? ([region, JSON.parse(rule.EventPattern) as Record<string, unknown>] as const) : undefined;
  });
  return new Map(found.filter((f) => f !== undefined));
}

/**
 * Whether an event matches an EventBridge pattern of the shapes used here: each field a list of
 * allowed values, or an object matched field by field. Enough for FORWARDED_PATTERN.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, allowed]) => {
    const value = event[key];
    if (Array.isArray(allowed)) return allowed.includes(value);
    if (allowed && typeof allowed === 'object')
      return (
        value !== null &&
        typeof value === 'object' &&
        matchesPattern(allowed as Record<string, unknown>, value as Record<string, unknown>)
      );
    return false;
  });
}

export class ForwardingError extends Error {
  override readonly name = 'ForwardingError';
  constructor(
    readonly region: string,
    detail: string,
  ) {
    super(`forwarding EC2 image events from ${region}: ${detail}`);
  }
}

async function eachRegion<T>(regions: readonly string[], work: (region: string) => Promise<T>): Promise<T[]> {
  return Promise.all(regions.map(work));
}

function remote(regions: readonly string[], spec: Pick<ForwardingSpec, 'homeRegion'>): string[] {
  return [...new Set(regions)].filter((r) => r !== spec.homeRegion);
}

async function ifExists<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}
