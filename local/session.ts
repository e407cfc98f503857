import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { stringify } from 'yaml';
import type { ResolvedRecipe } from '../lib/state.js';
import type { BehaviourLayer, Profile, ProfileName } from './aws-behaviour/index.js';
import { Reconciler } from './reconciler.js';
import type { EventTap, LocalStack } from './stack.js';

/**
 * What the local bakes running at the same time in one process share, as the bakes of one
 * deployed stack share it: the stack (bus, table, builder profile), the recipe catalog, one
 * subscriber queue for the bakes' events, one reconciler schedule and one resumeWait per EC2
 * event. The handlers read their configuration from process.env, so bakes that overlap must
 * agree on it: one emulator, one build region, one behaviour profile.
 *
 * A session begins with the first bake and ends with the last one; sequential bakes each get a
 * fresh session, so a single bake behaves as it always did.
 */
export class LocalSession {
  private bakes = 0;
  private stackP: Promise<LocalStack> | undefined;
  private keys: Promise<unknown> = Promise.resolve();
  private readonly keysOf = new Map<string, Promise<unknown>>();
  private readonly catalog = new Catalog();
  private readonly events = new SharedTap();
  readonly reconciler = new Reconciler();
  private readonly resumed = new Set<string>();

  constructor(
    readonly endpoint: string,
    readonly region: string,
    readonly profile: string,
  ) {}

  /** The stack is provisioned once per session: two bakes provisioning at once would race (two security groups). */
  stack(provision: () => Promise<LocalStack>): Promise<LocalStack> {
    this.stackP ??= provision();
    return this.stackP;
  }

  /**
   * A recipe's keys once per recipe (`key`: what names them), one recipe at a time: two recipes
   * naming the same alias would both create it.
   */
  recipeKeys(key: string, provision: () => Promise<unknown>): Promise<unknown> {
    let done = this.keysOf.get(key);
    if (!done) {
      done = this.keys.then(provision);
      this.keys = done.catch(() => undefined);
      this.keysOf.set(key, done);
      done.catch(() => this.keysOf.delete(key));
    }
    return done;
  }

  /** Sets RECIPES_DIR to a catalog holding this recipe and every other recipe of the session. */
  addRecipe(recipe: ResolvedRecipe): Promise<string> {
    return this.catalog.add(recipe);
  }

  /** This bake's events, read from the session's one subscriber queue. */
  tap(bakeId: string, create: () => Promise<EventTap>) {
    return this.events.subscribe(bakeId, create);
  }

  /**
   * One resumeWait per EC2 event, as the stack's one rule invokes it once: every execution of the
   * process listens to the layer's events, so the same event arrives once per running bake in the
   * same tick. A duplicate delivered later (EC2 does that) is a new delivery and runs again.
   */
  resumeOnce<T>(event: unknown, resume: () => Promise<T>): Promise<T | undefined> {
    const key = JSON.stringify(event);
    if (this.resumed.has(key)) return Promise.resolve(undefined);
    this.resumed.add(key);
    setImmediate(() => this.resumed.delete(key));
    return resume();
  }

  /** Bakes in the session now. */
  get running(): number {
    return this.bakes;
  }

  /** @internal */ join(): void {
    this.bakes += 1;
  }

  /** @internal True when this was the last bake: the session's resources are released. */
  async leave(): Promise<boolean> {
    this.bakes -= 1;
    if (this.bakes > 0) return false;
    this.reconciler.stop();
    await Promise.allSettled([this.events.close(), this.catalog.close()]);
    return true;
  }
}

let current: LocalSession | undefined;

/** Thrown when a bake would change what the bakes already running in this process rely on. */
export class ConcurrentBakeConflictError extends Error {
  override readonly name = 'ConcurrentBakeConflictError';
}

/**
 * Joins the process's running session, or starts one (and sets the layer's profile: setting it
 * resets the throttling buckets, which must not happen under bakes already running).
 */
export function joinSession(
  layer: BehaviourLayer,
  region: string,
  profile: ProfileName | Profile,
): { session: LocalSession; leave: () => Promise<void> } {
  const wanted = typeof profile === 'string' ? profile : profile.name;
  if (!current) {
    layer.setProfile(profile);
    current = new LocalSession(layer.endpoint, region, layer.profile.name);
  } else {
    const s = current;
    const differs =
      s.endpoint !== layer.endpoint
        ? `the emulator ${layer.endpoint} (running bakes use ${s.endpoint})`
        : s.region !== region
          ? `the build region ${region} (running bakes use ${s.region})`
          : s.profile !== wanted || (typeof profile !== 'string' && layer.profile !== profile)
            ? `the behaviour profile ${wanted} (running bakes use ${s.profile})`
            : undefined;
    if (differs)
      throw new ConcurrentBakeConflictError(
        `a local bake cannot start with ${differs} while other bakes run in this process: their handlers share process.env`,
      );
  }
  const session = current;
  session.join();
  return {
    session,
    leave: async () => {
      if (session.running === 1 && current === session) current = undefined; // a new bake starts a new session
      await session.leave();
    },
  };
}

/**
 * The recipes of a session, as a catalog directory. ResolveRecipe loads a directory once and keeps
 * it (as a Lambda container keeps its packaged recipes), so a new recipe gets a new directory
 * holding every recipe so far: a bake always resolves against a catalog that holds its recipe.
 */
class Catalog {
  private readonly recipes = new Map<string, ResolvedRecipe>();
  private readonly dirs: string[] = [];
  private latest: Promise<string> | undefined;

  add(recipe: ResolvedRecipe): Promise<string> {
    const known = this.recipes.get(recipe.name);
    if (known && !isDeepStrictEqual(known, recipe))
      return Promise.reject(
        new ConcurrentBakeConflictError(
          `recipe ${recipe.name} is being baked with other content in this process: bake it under another name`,
        ),
      );
    if (known && this.latest) return this.latest;
    this.recipes.set(recipe.name, recipe);
    const snapshot = [...this.recipes.values()];
    const previous = (this.latest ?? Promise.resolve('')).catch(() => '');
    this.latest = previous.then(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ami-bake-catalog-'));
      this.dirs.push(dir);
      await Promise.all(snapshot.map((r, i) => writeFile(join(dir, `recipe-${i}.yml`), stringify(r))));
      // The handlers read RECIPES_DIR at each ResolveRecipe; every directory is a superset of the last.
      process.env.RECIPES_DIR = dir;
      return dir;
    });
    return this.latest;
  }

  async close(): Promise<void> {
    await this.latest?.catch(() => undefined);
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

type BakeEvents = Awaited<ReturnType<EventTap['read']>>;

/** One subscriber queue for every bake of the session; each bake reads the events that name it. */
class SharedTap {
  private tap: Promise<EventTap> | undefined;
  private readonly buffers = new Map<string, BakeEvents>();
  private draining: Promise<void> = Promise.resolve();

  subscribe(bakeId: string, create: () => Promise<EventTap>) {
    this.tap ??= create();
    this.buffers.set(bakeId, []);
    const ready = this.tap;
    return ready.then(() => ({
      read: async (): Promise<BakeEvents> => {
        await this.drain();
        const events = this.buffers.get(bakeId) ?? [];
        this.buffers.set(bakeId, []);
        return events;
      },
      remove: async () => {
        this.buffers.delete(bakeId);
      },
    }));
  }

  /** One drain at a time, so a read sees every message an earlier drain took off the queue. */
  private drain(): Promise<void> {
    const tap = this.tap;
    if (!tap) return Promise.resolve();
    this.draining = this.draining.then(async () => {
      for (const event of await (await tap).read()) {
        const id = (event.detail as { bakeId?: unknown }).bakeId;
        if (typeof id === 'string') this.buffers.get(id)?.push(event);
      }
    });
    return this.draining;
  }

  async close(): Promise<void> {
    const tap = this.tap;
    this.tap = undefined;
    if (tap) await (await tap).remove();
  }
}

/** The session bakes of this process are in now, if any (the bench reads its reconciler). */
export function currentSession(): LocalSession | undefined {
  return current;
}

/** A short unique name for the session's subscriber queue. */
export function sessionTapId(): string {
  return `local-${randomUUID().slice(0, 8)}`;
}
