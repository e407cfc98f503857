import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type SweepDeps,
  type SweepOptions,
  sweepEventSchema,
  sweepLeftovers,
} from '../../../functions/sweep-leftovers/core.js';
import { logger } from '../../../lib/logger.js';
import { captureEmf } from '../emf.js';
import { awsError } from '../functions/fixtures.js';
import { bakeIn, bakeTag, emptyWorld, fakeEc2, hoursAgo, left, NOW, type World } from './fake-ec2.js';

const REGIONS = ['us-east-1', 'eu-west-1'];
const OURS = 'bake-ours-0001';
const OTHER = 'bake-other-0002';

/** Our bake (1 in us-east-1, 2 in eu-west-1) and another bake (3 in us-east-1), both `age` hours old. */
function worlds(age = 1): Record<string, World> {
  return {
    'us-east-1': bakeIn(bakeIn(emptyWorld(), OURS, 1, age), OTHER, 3, age),
    'eu-west-1': bakeIn(emptyWorld(), OURS, 2, age, 'running'),
  };
}

/** A bake's execution: its status, or its status and the Error it ended with. */
type Execution = string | { status: string; error: string } | undefined;

function sweep(
  w: Record<string, World>,
  statuses: Record<string, Execution>,
  options: Partial<Pick<SweepOptions, 'dryRun' | 'graceHours' | 'unknownBakes'>> = {},
) {
  const fake = fakeEc2(w);
  const describeExecution: SweepDeps['describeExecution'] = async (bakeId) => {
    const execution = statuses[bakeId];
    if (execution === 'THROTTLED') throw awsError('ThrottlingException', 'Rate exceeded');
    return typeof execution === 'string' ? { status: execution } : execution;
  };
  const run = sweepLeftovers(
    {
      regions: Object.keys(w),
      graceHours: options.graceHours ?? 24,
      unknownBakes: options.unknownBakes ?? 'builders',
      dryRun: options.dryRun ?? false,
    },
    { ec2: fake.ec2, describeExecution, now: () => NOW },
  );
  return { run, fake };
}

const untouched = (n: number, state = 'stopped') => ({
  liveInstances: state === 'terminated' ? [] : [`i-${n}`],
  images: [`ami-${n}`],
  snapshots: [`snap-${n}`],
});
const gone = { liveInstances: [], images: [], snapshots: [] };

describe('sweepLeftovers', () => {
  const info = vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
  beforeEach(() => {
    info.mockClear();
    error.mockClear();
  });

  it.each(['FAILED', 'ABORTED', 'TIMED_OUT'])(
    'removes everything of a %s bake in every region and leaves other bakes alone',
    async (status) => {
      const w = worlds();

      const report = await sweep(w, { [OURS]: status, [OTHER]: 'RUNNING' }).run;

      expect(left(w['us-east-1'] as World)).toEqual(untouched(3));
      expect(left(w['eu-west-1'] as World)).toEqual(gone);
      expect(report.removed).toEqual([
        {
          bakeId: OURS,
          reason: `execution ${status}`,
          terminatedInstances: expect.arrayContaining([
            { region: 'us-east-1', instanceId: 'i-1' },
            { region: 'eu-west-1', instanceId: 'i-2' },
          ]),
          deregisteredImages: expect.arrayContaining([
            { region: 'us-east-1', imageId: 'ami-1' },
            { region: 'eu-west-1', imageId: 'ami-2' },
          ]),
          deletedSnapshots: expect.arrayContaining([
            { region: 'us-east-1', snapshotId: 'snap-1' },
            { region: 'eu-west-1', snapshotId: 'snap-2' },
          ]),
          problems: [],
        },
      ]);
      expect(report.kept).toEqual([{ bakeId: OTHER, reason: 'execution RUNNING' }]);
      expect(report.problems).toEqual([]);
    },
  );

  it('counts the resources it removed as LeftoversRemoved, and none in a dry run', async () => {
    const emf = captureEmf();
    try {
      await sweep(worlds(), { [OURS]: 'FAILED', [OTHER]: 'RUNNING' }).run;
      await sweep(worlds(), { [OURS]: 'FAILED', [OTHER]: 'RUNNING' }, { dryRun: true }).run;
      // A failed bake's builder, image and snapshot in each of two regions.
      expect(emf.summary()).toEqual([{ name: 'LeftoversRemoved', dims: [], value: 6, values: {} }]);
    } finally {
      emf.stop();
    }
  });

  it.each(['RUNNING', 'PENDING_REDRIVE'])('leaves a %s bake as it is', async (status) => {
    const w = worlds();

    const { run, fake } = sweep(w, { [OURS]: status, [OTHER]: status });
    const report = await run;

    expect(fake.mutations()).toEqual([]);
    expect(report.removed).toEqual([]);
    expect(report.kept).toContainEqual({ bakeId: OURS, reason: `execution ${status}` });
  });

  it('terminates the live builder of a succeeded bake and keeps its images and snapshots', async () => {
    const w = worlds();

    const report = await sweep(w, { [OURS]: 'SUCCEEDED', [OTHER]: 'RUNNING' }).run;

    expect(left(w['eu-west-1'] as World)).toEqual({ ...untouched(2), liveInstances: [] });
    expect(left(w['us-east-1'] as World)).toEqual({
      liveInstances: ['i-3'],
      images: ['ami-1', 'ami-3'],
      snapshots: ['snap-1', 'snap-3'],
    });
    expect(report.removed).toEqual([
      expect.objectContaining({
        bakeId: OURS,
        terminatedInstances: expect.arrayContaining([
          { region: 'us-east-1', instanceId: 'i-1' },
          { region: 'eu-west-1', instanceId: 'i-2' },
        ]),
        deregisteredImages: [],
        deletedSnapshots: [],
      }),
    ]);
    expect(report.kept).toContainEqual({
      bakeId: OURS,
      reason: 'succeeded: its images and snapshots are the product',
    });
  });

  it('changes nothing for a succeeded bake whose builder is already terminated', async () => {
    const w = { 'us-east-1': bakeIn(emptyWorld(), OURS, 1, 1, 'terminated') };

    const { run, fake } = sweep(w, { [OURS]: 'SUCCEEDED' });
    const report = await run;

    expect(fake.mutations()).toEqual([]);
    expect(report.inspected).toEqual({ instances: 0, images: 1, snapshots: 1 });
    expect(report.kept).toEqual([
      { bakeId: OURS, reason: 'succeeded: its images and snapshots are the product' },
    ]);
  });

  describe('a bake whose images were delivered but whose Bake Succeeded was not published', () => {
    // The execution is FAILED (so alarms see it), but its images are finished, shared and kept.
    const unannounced = { status: 'FAILED', error: 'BakeSucceededNotAnnounced' };
    const keep = 'images delivered, Bake Succeeded not published: its images and snapshots are the product';

    it('keeps its images and snapshots in every region and terminates a builder still alive', async () => {
      const w = worlds();

      const report = await sweep(w, { [OURS]: unannounced, [OTHER]: 'RUNNING' }).run;

      expect(left(w['eu-west-1'] as World)).toEqual({ ...untouched(2), liveInstances: [] });
      expect(left(w['us-east-1'] as World)).toEqual({
        liveInstances: ['i-3'],
        images: ['ami-1', 'ami-3'],
        snapshots: ['snap-1', 'snap-3'],
      });
      expect(report.removed).toEqual([
        expect.objectContaining({ bakeId: OURS, deregisteredImages: [], deletedSnapshots: [] }),
      ]);
      expect(report.kept).toContainEqual({ bakeId: OURS, reason: keep });
    });

    it('changes nothing once its builder is terminated, as the bake itself leaves it', async () => {
      const w = { 'us-east-1': bakeIn(emptyWorld(), OURS, 1, 1, 'terminated') };

      const { run, fake } = sweep(w, { [OURS]: unannounced });
      const report = await run;

      expect(fake.mutations()).toEqual([]);
      expect(report.kept).toEqual([{ bakeId: OURS, reason: keep }]);
    });

    it('still removes everything of a bake that failed with another error', async () => {
      const w = { 'us-east-1': bakeIn(emptyWorld(), OURS, 1, 1, 'terminated') };

      const report = await sweep(w, { [OURS]: { status: 'FAILED', error: 'BakeFailed' } }).run;

      expect(left(w['us-east-1'] as World)).toEqual(gone);
      expect(report.removed.map((r) => [r.bakeId, r.reason])).toEqual([[OURS, 'execution FAILED']]);
    });
  });

  it('keeps the leftovers of a bake without an execution while they are younger than the grace period', async () => {
    const w = worlds(23);

    const { run, fake } = sweep(w, {});
    const report = await run;

    expect(fake.mutations()).toEqual([]);
    expect(report.kept).toEqual([
      { bakeId: OTHER, reason: 'no execution, but younger than 24 h' },
      { bakeId: OURS, reason: 'no execution, but younger than 24 h' },
    ]);
  });

  it('terminates only the builders of a bake without an execution once it is older than the grace period', async () => {
    const w = worlds(25);

    const report = await sweep(w, { [OTHER]: 'RUNNING' }).run;

    expect(left(w['eu-west-1'] as World)).toEqual({ ...untouched(2), liveInstances: [] });
    expect(left(w['us-east-1'] as World)).toEqual({
      liveInstances: ['i-3'],
      images: ['ami-1', 'ami-3'],
      snapshots: ['snap-1', 'snap-3'],
    });
    expect(report.removed).toEqual([
      expect.objectContaining({ bakeId: OURS, deregisteredImages: [], deletedSnapshots: [] }),
    ]);
    expect(report.kept).toContainEqual({
      bakeId: OURS,
      reason: 'no execution, and older than 24 h: images and snapshots kept (SWEEP_UNKNOWN_BAKES=builders)',
    });
  });

  it('removes everything of such a bake when told to remove everything', async () => {
    const w = worlds(25);

    const report = await sweep(w, { [OTHER]: 'RUNNING' }, { unknownBakes: 'everything' }).run;

    expect(left(w['eu-west-1'] as World)).toEqual(gone);
    expect(left(w['us-east-1'] as World)).toEqual(untouched(3));
    expect(report.removed.map((r) => [r.bakeId, r.reason])).toEqual([
      [OURS, 'no execution, and older than 24 h'],
    ]);
  });

  it("leaves another stage's bakes alone, even when told to remove everything: only this stack's tag is its to judge", async () => {
    const w = { 'us-east-1': bakeIn(emptyWorld(), OTHER, 3, 25, 'stopped', 'ami-bake-prod') };

    const { run, fake } = sweep(w, {}, { unknownBakes: 'everything' });
    const report = await run;

    expect(fake.mutations()).toEqual([]);
    expect(left(w['us-east-1'])).toEqual(untouched(3));
    expect(report.removed).toEqual([]);
    expect(report.inspected).toEqual({ instances: 0, images: 0, snapshots: 0 });
  });

  it('judges a bake without an execution by its newest resource, in any region', async () => {
    const w = worlds(48);
    (w['eu-west-1'] as World).images.push({
      id: 'ami-9',
      tags: bakeTag(OURS),
      snapshotIds: [],
      created: hoursAgo(2),
    });

    const report = await sweep(w, { [OTHER]: 'RUNNING' }).run;

    expect(left(w['us-east-1'] as World).images).toContain('ami-1');
    expect(report.kept).toContainEqual({ bakeId: OURS, reason: 'no execution, but younger than 24 h' });
  });

  it('honours another grace period', async () => {
    const w = worlds(3);

    const report = await sweep(w, { [OTHER]: 'RUNNING' }, { graceHours: 2, unknownBakes: 'everything' }).run;

    expect(report.removed.map((r) => r.bakeId)).toEqual([OURS]);
    expect(left(w['us-east-1'] as World).images).toEqual(['ami-3']);
  });

  it('reports in a dry run what it would remove, and changes nothing', async () => {
    const w = worlds(48);
    (w['us-east-1'] as World).instances.push({
      id: 'i-7',
      state: 'running',
      tags: bakeTag('bake-done-0007'),
      launched: NOW,
    });

    const { run, fake } = sweep(
      w,
      { [OURS]: 'ABORTED', [OTHER]: 'RUNNING', 'bake-done-0007': 'SUCCEEDED' },
      { dryRun: true },
    );
    const report = await run;

    expect(fake.mutations()).toEqual([]);
    expect(left(w['eu-west-1'] as World)).toEqual(untouched(2, 'running'));
    expect(report.dryRun).toBe(true);
    expect(report.removed).toEqual([
      expect.objectContaining({
        bakeId: 'bake-done-0007',
        terminatedInstances: [{ region: 'us-east-1', instanceId: 'i-7' }],
        deregisteredImages: [],
      }),
      {
        bakeId: OURS,
        reason: 'execution ABORTED',
        terminatedInstances: expect.arrayContaining([
          { region: 'us-east-1', instanceId: 'i-1' },
          { region: 'eu-west-1', instanceId: 'i-2' },
        ]),
        deregisteredImages: expect.arrayContaining([
          { region: 'us-east-1', imageId: 'ami-1' },
          { region: 'eu-west-1', imageId: 'ami-2' },
        ]),
        deletedSnapshots: expect.arrayContaining([
          { region: 'us-east-1', snapshotId: 'snap-1' },
          { region: 'eu-west-1', snapshotId: 'snap-2' },
        ]),
        problems: [],
      },
    ]);
  });

  it('sweeps the other regions when one cannot be inspected, and says which', async () => {
    const w = worlds();
    (w['us-east-1'] as World).broken = true;

    const report = await sweep(w, { [OURS]: 'FAILED' }).run;

    expect(left(w['eu-west-1'] as World)).toEqual(gone);
    expect(report.regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(report.problems).toEqual(['us-east-1: AuthFailure: us-east-1 is not enabled']);
    expect(error).toHaveBeenCalledWith('sweep incomplete', { problems: report.problems });
  });

  it('keeps a bake whose status it cannot learn and sweeps the others', async () => {
    const w = worlds();

    const report = await sweep(w, { [OURS]: 'THROTTLED', [OTHER]: 'FAILED' }).run;

    expect(left(w['us-east-1'] as World)).toEqual(untouched(1));
    expect(report.removed.map((r) => r.bakeId)).toEqual([OTHER]);
    expect(report.kept).toEqual([
      { bakeId: OURS, reason: 'execution status unknown: ThrottlingException: Rate exceeded' },
    ]);
    expect(report.problems).toEqual([`${OURS}: ThrottlingException: Rate exceeded`]);
  });

  it('reports what a failing removal left, per bake and overall', async () => {
    const w = worlds();
    const fake = fakeEc2(w);
    const ec2 = (region: string) =>
      region === 'eu-west-1'
        ? {
            send: (async (command: { constructor: { name: string } }) => {
              if (command.constructor.name === 'TerminateInstancesCommand')
                throw awsError('UnauthorizedOperation', 'no');
              return fake.ec2(region).send(command as never);
            }) as never,
          }
        : fake.ec2(region);

    const report = await sweepLeftovers(
      { regions: REGIONS, graceHours: 24, unknownBakes: 'builders', dryRun: false },
      { ec2, describeExecution: async () => ({ status: 'FAILED' }), now: () => NOW },
    );

    expect(left(w['us-east-1'] as World)).toEqual(gone);
    const ours = report.removed.find((r) => r.bakeId === OURS);
    expect(ours?.problems).toEqual([
      expect.stringMatching(/^eu-west-1: CleanupIncompleteError: .*UnauthorizedOperation: no/),
    ]);
    expect(report.problems).toEqual([
      expect.stringMatching(new RegExp(`^${OURS} eu-west-1: CleanupIncompleteError`)),
    ]);
  });

  it('logs its report', async () => {
    const report = await sweep(worlds(), { [OURS]: 'FAILED', [OTHER]: 'RUNNING' }).run;

    const { problems, ...logged } = report;
    expect(info).toHaveBeenCalledWith('swept leftovers', logged);
    expect(problems).toEqual([]);
    expect(error).not.toHaveBeenCalled();
  });

  it("describes each resource type once per region, by this stack's tag", async () => {
    const { run, fake } = sweep(worlds(), { [OURS]: 'RUNNING', [OTHER]: 'RUNNING' });
    const report = await run;

    expect(report.inspected).toEqual({ instances: 3, images: 3, snapshots: 3 });
    expect(fake.calls.map((c) => `${c.region} ${c.command}`).sort()).toEqual(
      REGIONS.flatMap((r) => [
        `${r} DescribeImagesCommand`,
        `${r} DescribeInstancesCommand`,
        `${r} DescribeSnapshotsCommand`,
      ]).sort(),
    );
  });
});

describe('the sweeper event', () => {
  it('is a real sweep for the schedule and for an empty payload', () => {
    const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

    expect(sweepEventSchema.parse(scheduled)).toEqual({ dryRun: false });
    expect(sweepEventSchema.parse({})).toEqual({ dryRun: false });
    expect(sweepEventSchema.parse(null)).toEqual({ dryRun: false });
  });

  it('is a dry run with dryRun true', () => {
    expect(sweepEventSchema.parse({ dryRun: true })).toEqual({ dryRun: true });
  });

  it('refuses a dryRun that is not a boolean rather than sweeping for real', () => {
    expect(sweepEventSchema.safeParse({ dryRun: 'true' }).success).toBe(false);
  });
});
