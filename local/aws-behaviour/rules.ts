import type { Bucket, FaultRule, Profile } from './profiles.js';

/** mulberry32: a small seeded PRNG, so probabilities and jitter repeat run after run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ActiveRule {
  rule: FaultRule & { id: string };
  seen: number;
  hits: number;
}

export class FaultRules {
  private rules: ActiveRule[] = [];
  private nextId = 1;

  constructor(private readonly random: () => number) {}

  add(rule: FaultRule): string {
    const id = rule.id ?? `fault-${this.nextId++}`;
    this.rules.push({ rule: { ...rule, id }, seen: 0, hits: 0 });
    return id;
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * The first rule that hits this call. Every matching rule counts the call, hit or not, so
   * `calls: [2]` means the second matching call whatever other rules did.
   */
  match(service: string, action: string, region: string, params?: URLSearchParams): FaultRule | undefined {
    let hit: FaultRule | undefined;
    for (const active of this.rules) {
      const { rule } = active;
      if ((rule.service ?? 'ec2') !== service) continue;
      if (rule.action !== '*' && rule.action !== action) continue;
      if (rule.region && rule.region !== region) continue;
      if (rule.params && !Object.entries(rule.params).every(([k, v]) => params?.get(k) === v)) continue;
      active.seen += 1;
      if (hit || !this.selects(active)) continue;
      active.hits += 1;
      hit = rule;
    }
    return hit;
  }

  private selects({ rule, seen, hits }: ActiveRule): boolean {
    if (rule.calls && !rule.calls.includes(seen)) return false;
    if (rule.from !== undefined && seen < rule.from) return false;
    if (rule.times !== undefined && hits >= rule.times) return false;
    if (rule.probability !== undefined && this.random() >= rule.probability) return false;
    return true;
  }
}

/** EC2's per-action token buckets; time runs at the profile's clock. */
export class Throttle {
  private buckets = new Map<string, { tokens: number; at: number }>();

  /** False when the bucket for (region, action) is empty: answer RequestLimitExceeded. */
  take(profile: Profile, region: string, action: string, now = Date.now()): boolean {
    const spec = profile.throttle && bucketFor(profile.throttle, action);
    if (!spec) return true;
    const key = `${region}\u0000${action}`;
    const state = this.buckets.get(key) ?? { tokens: spec.capacity, at: now };
    const awsSeconds = ((now - state.at) / 1000) * profile.clock;
    state.tokens = Math.min(spec.capacity, state.tokens + awsSeconds * spec.refillPerSecond);
    state.at = now;
    this.buckets.set(key, state);
    if (state.tokens < 1) return false;
    state.tokens -= 1;
    return true;
  }

  reset(): void {
    this.buckets.clear();
  }
}

/** The bucket an action draws from: its exact name, else the longest `Prefix*`, else the default. */
export function bucketFor(throttle: NonNullable<Profile['throttle']>, action: string): Bucket {
  const byAction = throttle.byAction ?? {};
  const exact = byAction[action];
  if (exact) return exact;
  const prefix = Object.keys(byAction)
    .filter((k) => k.endsWith('*') && action.startsWith(k.slice(0, -1)))
    .sort((a, b) => b.length - a.length)[0];
  return (prefix && byAction[prefix]) || throttle.default;
}
