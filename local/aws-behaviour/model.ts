import { type Ec2Event, localMs, type Profile } from './profiles.js';

export type InstanceState = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';
export type ImageState = 'pending' | 'available' | 'failed';

export const INSTANCE_STATE_CODES: Record<InstanceState, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

interface Modelled<S> {
  state: S;
  /** Local ms before which the id is invisible (eventual consistency). */
  visibleAt: number;
  timer?: NodeJS.Timeout;
}

/**
 * What the layer knows better than moto: the states of instances and images it saw created or
 * changed, advancing with timers at the profile's clock, and when each new id becomes visible.
 * Only these resources get rewritten states and events.
 */
export class Ec2Model {
  private instances = new Map<string, Modelled<InstanceState>>();
  private images = new Map<string, Modelled<ImageState>>();
  /** snapshot key → image key, so snapshots follow their image's state. */
  private snapshotImage = new Map<string, string>();
  private listeners = new Set<(e: Ec2Event) => void>();
  private changeListeners = new Set<(e: Ec2Event, delaysAwsSeconds: number[]) => void>();
  private timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly profile: () => Profile,
    private readonly random: () => number,
  ) {}

  onEvent(listener: (e: Ec2Event) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called at the change itself, with the AWS-second delays its deliveries were given. */
  onChange(listener: (e: Ec2Event, delaysAwsSeconds: number[]) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  instanceState(region: string, id: string): InstanceState | undefined {
    return this.instances.get(key(region, id))?.state;
  }

  imageState(region: string, id: string): ImageState | undefined {
    return this.images.get(key(region, id))?.state;
  }

  /** pending while the snapshot's image is, completed after; undefined when not modelled. */
  snapshotState(region: string, id: string): 'pending' | 'completed' | 'error' | undefined {
    const image = this.snapshotImage.get(key(region, id));
    const state = image ? this.images.get(image)?.state : undefined;
    const snapshot = { pending: 'pending', available: 'completed', failed: 'error' } as const;
    return state === undefined ? undefined : snapshot[state];
  }

  /** True while a newly created id must answer NotFound. */
  invisible(region: string, id: string, now = Date.now()): boolean {
    const found = this.instances.get(key(region, id)) ?? this.images.get(key(region, id));
    return found !== undefined && now < found.visibleAt;
  }

  launched(region: string, id: string): void {
    const entry: Modelled<InstanceState> = { state: 'pending', visibleAt: this.visibleAt() };
    this.instances.set(key(region, id), entry);
    this.advanceInstance(region, id, entry, 'running', this.profile().durations.instanceLaunch);
  }

  /** Stop, start or terminate: the intermediate state now, the final one after the duration. */
  changed(region: string, id: string, via: InstanceState, to: InstanceState, awsSeconds: number): void {
    const k = key(region, id);
    const entry = this.instances.get(k) ?? { state: via, visibleAt: 0 };
    if (entry.timer) this.cancel(entry.timer);
    entry.state = via;
    this.instances.set(k, entry);
    this.advanceInstance(region, id, entry, to, awsSeconds);
  }

  imageCreated(region: string, id: string, snapshotIds: string[], awsSeconds: number): void {
    const entry: Modelled<ImageState> = { state: 'pending', visibleAt: this.visibleAt() };
    this.images.set(key(region, id), entry);
    for (const s of snapshotIds) this.snapshotImage.set(key(region, s), key(region, id));
    this.after(entry, awsSeconds, () => {
      entry.state = 'available';
      this.emit(region, 'EC2 AMI State Change', { ImageId: id, State: 'available' });
    });
  }

  /** Tracks an id that exists but whose creation the layer did not time (e.g. a moto-side image). */
  addSnapshots(region: string, imageId: string, snapshotIds: string[]): void {
    for (const s of snapshotIds) this.snapshotImage.set(key(region, s), key(region, imageId));
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.listeners.clear();
  }

  private advanceInstance(
    region: string,
    id: string,
    entry: Modelled<InstanceState>,
    to: InstanceState,
    awsSeconds: number,
  ): void {
    this.after(entry, awsSeconds, () => {
      entry.state = to;
      this.emit(region, 'EC2 Instance State-change Notification', { 'instance-id': id, state: to });
    });
  }

  /** Zero duration: the final state at once (as moto), the event on a later tick. */
  private after(entry: Modelled<string>, awsSeconds: number, done: () => void): void {
    if (awsSeconds <= 0) {
      done();
      return;
    }
    entry.timer = this.schedule(localMs(this.profile(), awsSeconds), () => {
      entry.timer = undefined;
      done();
    });
  }

  private emit(region: string, detailType: Ec2Event['detail-type'], detail: Record<string, unknown>): void {
    const event: Ec2Event = {
      region,
      'detail-type': detailType,
      source: 'aws.ec2',
      detail,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    const { duplicateProbability } = this.profile().events;
    const deliver = () => {
      for (const l of [...this.listeners]) l(event);
    };
    const delays = [this.eventDelay()];
    if (duplicateProbability > 0 && this.random() < duplicateProbability) delays.push(this.eventDelay());
    const clock = this.profile().clock;
    for (const l of [...this.changeListeners])
      l(
        event,
        delays.map((ms) => (ms * clock) / 1000),
      );
    for (const ms of delays) this.schedule(ms, deliver);
  }

  /** Most events within `delay`; a share (`tail.probability`) late, within `tail.delay`. */
  private eventDelay(): number {
    const { delay, tail } = this.profile().events;
    return this.jitter(tail && this.random() < tail.probability ? tail.delay : delay);
  }

  private jitter([min, max]: [number, number]): number {
    return localMs(this.profile(), min + (max - min) * this.random());
  }

  private schedule(ms: number, work: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      work();
    }, ms);
    // Pending transitions must not keep a finished CLI alive.
    timer.unref();
    this.timers.add(timer);
    return timer;
  }

  private cancel(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  private visibleAt(): number {
    return Date.now() + localMs(this.profile(), this.profile().consistencyWindow);
  }
}

function key(region: string, id: string): string {
  return `${region}/${id}`;
}
