import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * reconcileWaits on one schedule for the process, as the stack's one schedule rule runs it for
 * every bake (it checks all waits at once, batched per region and resource type). It runs while
 * any bake waits; a pass never overlaps another.
 */
export class Reconciler {
  private holds = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private run: () => Promise<unknown> = async () => undefined;
  private intervalMs: () => number = () => 1000;
  /** Passes run so far (the bench compares them with the Describe calls they made). */
  passes = 0;

  /** A wait began: runs `run` every `intervalMs()` until every wait has ended. */
  hold(run: () => Promise<unknown>, intervalMs: () => number): () => void {
    this.run = run;
    this.intervalMs = intervalMs;
    this.holds += 1;
    if (this.holds === 1) this.schedule();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      if (this.holds === 0) this.stop();
    };
  }

  /** A pass that starts after this call (bakes ask for one when they end, as the schedule would run). */
  now(run: () => Promise<unknown>): Promise<void> {
    this.run = run;
    if (!this.running) return this.pass();
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.pass();
    });
    return this.queued;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.now(this.run).finally(() => {
        if (this.holds > 0) this.schedule();
      });
    }, this.intervalMs());
  }

  private pass(): Promise<void> {
    this.passes += 1;
    const run = this.run;
    this.running = inPass
      .run(this.passes, run)
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}

const inPass = new AsyncLocalStorage<number>();

/** The reconciler pass the caller runs in (its number), if any: the bench counts each pass's calls. */
export function reconcilerPass(): number | undefined {
  return inPass.getStore();
}
