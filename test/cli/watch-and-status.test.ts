import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BAKE_ID, cli, EXECUTION_ARN, STATE_MACHINE_ARN, useFakeAws } from './helpers.js';
import { execution, failedBake, IMAGES, progressing, succeededBake, unannouncedBake } from './history.js';

const target = ['--state-machine-arn', STATE_MACHINE_ARN];
const STOPPED = Date.parse('2026-11-26T05:53:47Z') / 1000;
/** How DescribeExecution ends a bake whose images were delivered but not announced. */
const UNANNOUNCED = {
  status: 'FAILED',
  stopDate: STOPPED,
  error: 'BakeSucceededNotAnnounced',
  cause: 'The images exist and were kept in every region; Bake Succeeded was not published.',
};

describe('ami-bake status and watch (Step Functions answered by a fake with realistic histories)', () => {
  const aws = useFakeAws();

  describe('status', () => {
    it('shows the stage a running bake is at, with the durations of the stages before it', async () => {
      // Prepare
      const { history } = succeededBake();
      aws.reply(progressing(history, {}, 12));

      // Act
      const { code, stdout } = await cli('status', BAKE_ID, ...target);

      // Assess
      expect(code).toBe(0);
      expect(stdout).toContain(`Bake ${BAKE_ID} (example-web) is running at WaitForBuilder`);
      expect(stdout).toMatch(/✓ ResolveRecipe\s+1\.50s/);
      expect(stdout).toMatch(/✓ LaunchBuilder\s+3\.00s/);
      expect(stdout).toMatch(/… WaitForBuilder\s+.* so far/);
      expect(aws.calls.map((c) => c.body.executionArn)).toEqual([EXECUTION_ARN, EXECUTION_ARN]);
    });

    it('prints one JSON document with status, stage timings per region and images with --json', async () => {
      // Prepare
      const { history, output } = succeededBake();
      aws.reply(() => ({ body: {} }));
      aws.reply(({ target: t }) =>
        t.endsWith('DescribeExecution')
          ? {
              body: execution('SUCCEEDED', { stopDate: 1795662000 + 1200, output: JSON.stringify(output) }),
            }
          : { body: { events: history.events } },
      );

      // Act
      const { code, stdout } = await cli('status', BAKE_ID, ...target, '--json');

      // Assess
      expect(code).toBe(0);
      const status = JSON.parse(stdout);
      expect(status).toMatchObject({
        bakeId: BAKE_ID,
        executionArn: EXECUTION_ARN,
        recipe: 'example-web',
        status: 'SUCCEEDED',
        images: IMAGES,
      });
      expect(status.error).toBeUndefined();
      const timings = Object.fromEntries(
        status.stages.map((s: { name: string; seconds: number }) => [s.name, s.seconds]),
      );
      expect(timings).toMatchObject({ WaitForBuilder: 312, WaitForImage: 240, CopyImages: 600 });
    });

    it('draws the timeline, the copies side by side, and writes the HTML report with --html', async () => {
      // Prepare
      const { history, output } = succeededBake();
      aws.reply(({ target: t }) =>
        t.endsWith('DescribeExecution')
          ? {
              body: execution('SUCCEEDED', { stopDate: 1795662000 + 1200, output: JSON.stringify(output) }),
            }
          : { body: { events: history.events } },
      );
      const file = join(mkdtempSync(join(tmpdir(), 'ami-bake-status-')), 'bake.html');

      // Act
      const { code, stdout, stderr } = await cli('status', BAKE_ID, ...target, '--html', file);

      // Assess
      expect(code).toBe(0);
      const chart = stdout.slice(stdout.indexOf('Timeline:'));
      const rows = chart.split('\n').filter((l) => l.includes('│'));
      const bar = (region: string) =>
        rows.find((r) => r.trimStart().startsWith(`CopyImages ${region}`)) ?? '';
      const start = (row: string) => row.slice(row.indexOf('│') + 1).search(/\S/);
      expect(bar('eu-west-1')).not.toBe('');
      // Side by side: the copies start in the same column (within one) of the chart.
      expect(Math.abs(start(bar('eu-west-1')) - start(bar('ap-southeast-2')))).toBeLessThanOrEqual(1);
      expect(stderr).toContain(`HTML report: ${file}`);
      const html = readFileSync(file, 'utf8');
      expect(html).toContain('data-lane="eu-west-1"');
      expect(html).toContain(BAKE_ID);
    });

    it('takes the execution ARN that start printed instead of a bake id, without a stack', async () => {
      // Prepare
      aws.reply(progressing(failedBake(), execution('FAILED', { error: 'BakeFailed' })));

      // Act
      const { code, stdout } = await cli('status', EXECUTION_ARN, '--json');

      // Assess
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ bakeId: BAKE_ID, status: 'RUNNING' });
      expect(aws.calls.every((c) => c.target.startsWith('AWSStepFunctions.'))).toBe(true);
    });

    it('shows the kept images of a bake whose Bake Succeeded was not published, with why, and exits 0', async () => {
      // Prepare
      const history = unannouncedBake();
      aws.reply(({ target: t }) =>
        t.endsWith('DescribeExecution')
          ? { body: execution('FAILED', UNANNOUNCED) }
          : { body: { events: history.events } },
      );

      // Act
      const { code, stdout } = await cli('status', BAKE_ID, ...target);

      // Assess
      expect(code).toBe(0);
      expect(stdout).toMatch(/us-east-1\s+ami-0aaaaaaaaaaaaaaa1\s+snap-0aaaaaaaaaaaaaaa1/);
      expect(stdout).toMatch(/ap-southeast-2\s+ami-0ccccccccccccccc3/);
      expect(stdout).toContain(
        'Images kept; Bake Succeeded was not published (PublishBakeSucceeded): BakeSucceededNotAnnounced: ',
      );
      expect(stdout).toContain(
        'EventNotPublishedError: Bake Succeeded: AccessDeniedException Not authorized',
      );
      expect(stdout).not.toContain('Failed at');
      expect(stdout.split('\n')[0]).toMatch(
        `Bake ${BAKE_ID} (example-web) failed in 53m47s: images kept; Bake Succeeded was not published`,
      );
    });

    it('exits 2 naming the bake when the execution does not exist', async () => {
      // Prepare
      aws.reply(() => ({
        status: 400,
        body: { __type: 'ExecutionDoesNotExist', message: 'Execution Does Not Exist' },
      }));

      // Act
      const { code, stdout, stderr } = await cli('status', BAKE_ID, ...target);

      // Assess
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain(`no bake ${BAKE_ID} in ${STATE_MACHINE_ARN}`);
    });
  });

  describe('watch', () => {
    it('prints each stage as it completes with its duration, then the images, and exits 0', async () => {
      // Prepare
      const { history, output } = succeededBake();
      aws.reply(progressing(history, { status: 'SUCCEEDED', output: JSON.stringify(output) }));

      // Act
      const { code, stdout, sleeps } = await cli('watch', BAKE_ID, ...target, '--interval', '2');

      // Assess
      expect(code).toBe(0);
      const stages = stdout.split('\n').filter((l) => /^ {2}[✓✗]/.test(l));
      expect(stages.map((l) => l.slice(4, 30).trim())).toEqual([
        'ResolveRecipe',
        'PublishBakeStarted',
        'LaunchBuilder',
        'WaitForBuilder',
        'StopBuilder',
        'CreateImage',
        'WaitForImage',
        'CopyImages',
        'FinalizeImage',
        'TerminateBuilder',
        'DistributeImage',
        'PublishBakeSucceeded',
      ]);
      expect(stdout).toMatch(/✓ WaitForBuilder\s+5m12s/);
      expect(stdout).toMatch(/us-east-1\s+ami-0aaaaaaaaaaaaaaa1\s+snap-0aaaaaaaaaaaaaaa1/);
      expect(stdout).toMatch(/ap-southeast-2\s+ami-0ccccccccccccccc3/);
      expect(stdout.trimEnd().split('\n').at(-1)).toMatch(`Bake ${BAKE_ID} (example-web) succeeded`);
      expect(sleeps.length).toBeGreaterThan(2);
      expect(sleeps[0]).toBe(2000);
    });

    it('ends with the failed stage, error and cause and exits 1 when the bake fails', async () => {
      // Prepare
      aws.reply(
        progressing(failedBake(), {
          status: 'FAILED',
          error: 'BakeFailed',
          cause: 'The bake failed and was cleaned up',
        }),
      );

      // Act
      const { code, stdout } = await cli('watch', BAKE_ID, ...target, '--interval', '1');

      // Assess
      expect(code).toBe(1);
      expect(stdout).toMatch(/✗ WaitForBuilder\s+1m35s/);
      expect(stdout).toMatch(/✓ Cleanup\s+12\.0s/);
      expect(stdout).toContain(
        'Cleanup terminated 1 instance(s), deregistered 0 image(s), deleted 0 snapshot(s)',
      );
      expect(stdout).toContain(
        'Failed at WaitForBuilder: BootstrapFailedError: bootstrap exited 3: dnf: no package nginx-foo',
      );
      expect(stdout).toContain(`Bake ${BAKE_ID} (example-web) failed`);
    });

    it('ends with the kept images and exits 4 when the images were delivered but Bake Succeeded was not published', async () => {
      // Prepare
      aws.reply(progressing(unannouncedBake(), UNANNOUNCED));

      // Act
      const { code, stdout } = await cli('watch', BAKE_ID, ...target, '--interval', '1');

      // Assess
      expect(code).toBe(4);
      expect(stdout).toMatch(/✗ PublishBakeSucceeded\s+50m00s/);
      expect(stdout).toMatch(/eu-west-1\s+ami-0bbbbbbbbbbbbbbb2\s+snap-0bbbbbbbbbbbbbbb2/);
      expect(stdout).toContain('Images kept; Bake Succeeded was not published (PublishBakeSucceeded)');
      expect(stdout).not.toContain('Cleanup');
      expect(stdout.trimEnd().split('\n').at(-1)).toMatch(
        `Bake ${BAKE_ID} (example-web) failed in 53m47s: images kept; Bake Succeeded was not published`,
      );
    });

    it('exits 4 with --json too, where the summary says announced: false and lists the images', async () => {
      // Prepare
      aws.reply(progressing(unannouncedBake(), UNANNOUNCED, 1000));

      // Act
      const { code, stdout } = await cli('watch', BAKE_ID, ...target, '--json');

      // Assess
      expect(code).toBe(4);
      expect(JSON.parse(stdout)).toMatchObject({
        status: 'FAILED',
        announced: false,
        images: IMAGES,
        error: { stage: 'PublishBakeSucceeded', error: 'BakeSucceededNotAnnounced' },
      });
    });

    it('prints only the final status as one JSON document with --json and exits 1 for a cancelled bake', async () => {
      // Prepare
      aws.reply(
        progressing(failedBake(), { status: 'ABORTED', error: 'BakeCancelled', cause: 'wrong base' }, 40),
      );

      // Act
      const { code, stdout, stderr } = await cli('watch', BAKE_ID, ...target, '--json', '--interval', '1');

      // Assess
      expect(code).toBe(1);
      expect(stderr).toBe('');
      expect(JSON.parse(stdout)).toMatchObject({ bakeId: BAKE_ID, status: 'ABORTED' });
    });

    it('backs off while no stage moves, up to once a minute, and speeds up again when one does', async () => {
      // Prepare: the history stays the same for six polls, then the bake ends.
      const { history, output } = succeededBake();
      let polls = 0;
      aws.reply(({ target: t }) => {
        if (t.endsWith('GetExecutionHistory')) polls++;
        const done = polls > 7;
        if (t.endsWith('DescribeExecution'))
          return { body: execution(done ? 'SUCCEEDED' : 'RUNNING', { output: JSON.stringify(output) }) };
        return { body: { events: history.events.slice(0, done ? undefined : 10) } };
      });

      // Act
      const { code, sleeps } = await cli('watch', BAKE_ID, ...target, '--interval', '10');

      // Assess
      expect(code).toBe(0);
      expect(sleeps.slice(0, 7)).toEqual([10_000, 15_000, 22_500, 33_750, 50_625, 60_000, 60_000]);
    });
  });

  describe('AWS errors', () => {
    it('exits 3 with one line and no stack trace when access is denied', async () => {
      // Prepare
      aws.reply(() => ({
        status: 400,
        body: {
          __type: 'AccessDeniedException',
          message:
            'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: states:DescribeExecution',
        },
      }));

      // Act
      const { code, stdout, stderr } = await cli('status', BAKE_ID, ...target);

      // Assess
      expect(code).toBe(3);
      expect(stdout).toBe('');
      expect(stderr.trimEnd().split('\n')).toEqual([
        'ami-bake status: access denied: User: arn:aws:iam::123456789012:user/dev is not authorized to perform: states:DescribeExecution',
      ]);
    });

    it('adds the stack trace with --debug', async () => {
      // Prepare
      aws.reply(() => ({ status: 400, body: { __type: 'AccessDeniedException', message: 'denied' } }));

      // Act
      const { code, stderr } = await cli('watch', BAKE_ID, ...target, '--debug');

      // Assess
      expect(code).toBe(3);
      expect(stderr).toMatch(/AccessDeniedException: denied\n\s+at /);
    });

    it('prints the error as one JSON document with --json', async () => {
      // Prepare
      aws.reply(() => ({ status: 400, body: { __type: 'AccessDeniedException', message: 'denied' } }));

      // Act
      const { code, stdout } = await cli('cancel', BAKE_ID, ...target, '--json');

      // Assess
      expect(code).toBe(3);
      expect(JSON.parse(stdout)).toEqual({
        status: 'error',
        exitCode: 3,
        error: 'AccessDeniedException',
        message: 'access denied: denied',
      });
    });
  });
});
