import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_DETAILS } from '../../../lib/events.js';
import { TAG } from '../../../lib/tags.js';
import { type BehaviourLayer, PROFILES } from '../../../local/aws-behaviour/index.js';
import { type LocalBakeResult, localLayer, runLocalBake } from '../../../local/runner.js';
import { type EventTap, provisionLocalStack, tapEvents } from '../../../local/stack.js';
import { recipe, useEmulator } from '../helpers.js';
import { SCENARIOS, type Scenario } from './scenarios.js';

export const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

export interface MatrixRun {
  scenario: string;
  outcome: string;
  stage?: string;
  error?: string;
  seconds: number;
  calls: number;
  faultsHit: number;
}

/** What a bake left in one region, read from the emulator itself (not through the layer). */
async function leftovers(endpoint: string, region: string, bakeId: string) {
  const ec2 = new EC2Client({ region, endpoint, maxAttempts: 3 });
  const byTag = [{ Name: `tag:${TAG.bakeId}`, Values: [bakeId] }];
  const [{ Reservations = [] }, { Images = [] }, { Snapshots = [] }, { Volumes = [] }] = await Promise.all([
    ec2.send(new DescribeInstancesCommand({ Filters: byTag })),
    ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: byTag })),
    ec2.send(new DescribeSnapshotsCommand({ Filters: byTag })),
    ec2.send(new DescribeVolumesCommand({ Filters: byTag })),
  ]);
  const instances = Reservations.flatMap((r) => r.Instances ?? []);
  return {
    instances,
    liveInstances: instances.filter((i) => i.State?.Name !== 'terminated').map((i) => i.InstanceId),
    images: Images,
    snapshots: Snapshots.map((s) => s.SnapshotId),
    volumes: Volumes.filter((v) => v.State !== 'deleted').map((v) => v.VolumeId),
  };
}

async function terminateSoon(endpoint: string, instanceId: string) {
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint, maxAttempts: 1 });
  for (let attempt = 0; attempt < 20; attempt++) {
    await new Promise((r) => setTimeout(r, 250));
    try {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
      return;
    } catch {
      // Not visible yet (eventual consistency): try again.
    }
  }
}

export class Matrix {
  private layer!: BehaviourLayer;
  private tap!: EventTap;
  readonly runs: MatrixRun[] = [];

  constructor(private readonly endpoint: () => string) {}

  async setup() {
    this.layer = await localLayer(this.endpoint());
    const stack = await provisionLocalStack('us-east-1');
    this.tap = await tapEvents('us-east-1', stack.busName, `matrix-${process.pid}`, { source: ['ami-bake'] });
  }

  async run(s: Scenario): Promise<void> {
    const layer = this.layer;
    layer.clearFaults();
    layer.resetCalls();
    for (const f of s.faults ?? []) layer.addFault(f);
    const controller = new AbortController();
    let builderId: string | undefined;
    const t0 = Date.now();
    const overrides = s.bootstrapMinutes
      ? {
          bootstrap: {
            platform: 'linux',
            script: '#!/bin/bash\necho ok\n',
            timeoutMinutes: s.bootstrapMinutes,
          },
        }
      : {};
    const result: LocalBakeResult = await runLocalBake({
      recipe: await recipe(overrides),
      region: 'us-east-1',
      profile: { ...PROFILES.faults, ...s.profile, name: 'faults' },
      builder: s.builder,
      failCopyRegions: s.failCopyRegions,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.kind !== 'state') return;
        if (p.state === 'LaunchBuilder' && p.phase === 'done') builderId = p.note?.split(' ')[1];
        // AWS recovers once the stage has given up: the failure path must then work.
        if (s.faultsUntilFailed && p.state === 'Cleanup' && p.phase === 'start') layer.clearFaults();
        if (s.during && p.state === s.during.state && p.phase === 'start') {
          if (s.during.action === 'cancel') setTimeout(() => controller.abort(), 100);
          if (s.during.action === 'terminate-builder' && builderId) {
            // Someone terminates the builder from the console a moment after it appeared.
            void terminateSoon(layer.endpoint, builderId);
          }
        }
      },
    });
    layer.clearFaults();
    const calls = layer.calls();
    this.runs.push({
      scenario: s.name,
      outcome: result.status,
      stage: result.failure?.stage,
      error: result.failure?.error,
      seconds: (Date.now() - t0) / 1000,
      calls: calls.length,
      faultsHit: calls.filter((c) => c.fault).length,
    });
    await this.check(s, result);
  }

  private async check(s: Scenario, result: LocalBakeResult) {
    const why = JSON.stringify({ failure: result.failure, stages: result.stages.map((x) => x.label) });
    // Outcome and stage.
    expect(result.status, why).toBe(s.expect.outcome);
    if (s.expect.stage) expect(result.failure?.stage, why).toBe(s.expect.stage);
    if (s.expect.error) expect(result.failure?.error, why).toBe(s.expect.error);
    if (s.faults?.length || s.faultsUntilFailed) {
      expect(this.layer.calls().length).toBeGreaterThan(0);
    }

    // The events tell the truth: never success for a failure, the failing stage named.
    const events = (await this.tap.read()).filter((e) => e.detail.bakeId === result.bakeId);
    const types = events.map((e) => e['detail-type']);
    if (result.status === 'succeeded') {
      expect(types, why).toContain('Bake Succeeded');
      expect(types).not.toContain('Bake Failed');
    } else {
      expect(types, why).not.toContain('Bake Succeeded');
    }
    for (const e of events.filter((x) => x['detail-type'] === 'Bake Failed')) {
      const detail = EVENT_DETAILS['Bake Failed'].parse(e.detail);
      expect(detail.stage).toBe(result.failure?.stage);
      expect(detail.error).toBe(result.failure?.error);
      expect(detail.cleanup?.problems ?? []).toEqual([]);
    }
    if (result.status === 'failed' && s.stage !== 'PublishBakeFailed') {
      expect(types, why).toContain('Bake Failed');
    }

    // Nothing created twice, in any region.
    const created = this.layer.created().filter((c) => c.bakeId === undefined || c.bakeId === result.bakeId);
    for (const kind of ['instance', 'image'] as const) {
      for (const region of REGIONS) {
        const n = created.filter((c) => c.kind === kind && c.region === region).length;
        expect(n, `${kind}s created in ${region}`).toBeLessThanOrEqual(1);
      }
    }

    // Nothing left behind (failed), or exactly the products (succeeded / unannounced).
    const lefts = await Promise.all(
      REGIONS.map((region) => leftovers(this.endpoint(), region, result.bakeId)),
    );
    for (const [i, region] of REGIONS.entries()) {
      const left = lefts[i] as Awaited<ReturnType<typeof leftovers>>;
      expect(left.liveInstances, `${region}: live instances`).toEqual([]);
      expect(left.volumes, `${region}: volumes`).toEqual([]);
      if (result.status === 'failed') {
        expect(
          left.images.map((i) => i.ImageId),
          `${region}: images`,
        ).toEqual([]);
        expect(left.snapshots, `${region}: snapshots`).toEqual([]);
        for (const c of created.filter((x) => x.region === region && x.kind === 'image')) {
          const { Images = [] } = await new EC2Client({ region, endpoint: this.endpoint() }).send(
            new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'image-id', Values: [c.id] }] }),
          );
          expect(Images, `${region}: image ${c.id} created by the bake`).toEqual([]);
        }
      } else {
        expect(
          left.images.map((i) => i.ImageId),
          `${region}: images`,
        ).toHaveLength(1);
        expect(left.snapshots.length, `${region}: snapshots`).toBeGreaterThan(0);
      }
    }
  }

  /** The run's figures, for docs/reliability.md (`npm run reliability`). */
  writeReport(file: string) {
    const dir = join(process.cwd(), 'reports', 'fault-matrix');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, file), JSON.stringify(this.runs, null, 2));
  }
}

/**
 * One part of the matrix: every `parts`-th scenario, so that vitest runs the parts (files) in
 * parallel, each against its own emulator.
 */
export function matrixPart(part: number, parts: number) {
  describe(`fault matrix, part ${part} of ${parts}: every stage against what AWS does to it`, () => {
    const emulator = useEmulator();
    const matrix = new Matrix(emulator.endpoint);
    beforeAll(() => matrix.setup());
    afterAll(() => matrix.writeReport(`part-${part}.json`));
    for (const [i, scenario] of SCENARIOS.entries()) {
      if (i % parts !== part - 1) continue;
      it(`${scenario.kind}: ${scenario.name}`, () => matrix.run(scenario), 180_000);
    }
  });
}
