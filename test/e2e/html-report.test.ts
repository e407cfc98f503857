import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../lib/bakes/report.js';
import { timelineOf } from '../../lib/bakes/timeline.js';
import { cli } from '../cli/helpers.js';
import { launchChromium, openFile } from './browser.js';
import { useEmulator } from './helpers.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, 0) + s * 1000).toISOString();

describe('the HTML bake report in a real browser (headless Chromium)', () => {
  useEmulator();
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'ami-bake-report-'));

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders the timeline, lanes side by side, and the images, without a console error', async () => {
    const timeline = timelineOf([
      { stage: 'ResolveRecipe', startedAt: at(0), endedAt: at(1), outcome: 'succeeded' },
      { stage: 'WaitForBuilder', startedAt: at(1), endedAt: at(61), outcome: 'succeeded' },
      { stage: 'CopyImage', lane: 'eu-west-1', startedAt: at(61), endedAt: at(91), outcome: 'succeeded' },
      {
        stage: 'CopyImage',
        lane: 'ap-southeast-2',
        startedAt: at(61),
        endedAt: at(121),
        outcome: 'succeeded',
      },
    ]);
    const file = join(dir, 'report.html');
    writeFileSync(
      file,
      renderHtmlReport({
        bakeId: 'web_1',
        recipe: 'web',
        status: 'succeeded',
        timeline,
        images: [
          { region: 'us-east-1', imageId: 'ami-0123456789abcdef0' },
          { region: 'eu-west-1', imageId: 'ami-0123456789abcdef1' },
        ],
        events: [{ detailType: 'Bake Succeeded', detail: { bakeId: 'web_1' } }],
        generatedAt: at(130),
      }),
    );

    const { page, problems } = await openFile(browser, file);

    const bars = page.locator('#timeline g.bar');
    expect(await bars.count()).toBe(4);
    const boxes = await Promise.all(
      ['eu-west-1', 'ap-southeast-2'].map(
        async (lane) =>
          (await page.locator(`#timeline g.bar[data-lane="${lane}"] rect`).boundingBox()) ??
          expect.fail(lane),
      ),
    );
    const [eu, ap] = boxes as unknown as [{ x: number; width: number }, { x: number; width: number }];
    // Side by side: both copies start together; the longer one is drawn longer.
    expect(Math.abs(eu.x - ap.x)).toBeLessThan(1);
    expect(ap.width).toBeGreaterThan(eu.width * 1.5);
    expect(eu.width).toBeGreaterThan(0);
    expect(await page.locator('#images tbody tr').count()).toBe(2);
    expect(await page.title()).toBe('ami-bake web_1');
    expect(problems).toEqual([]);
  });

  it('renders the report of a real local bake (ami-bake bake --local --html): its stages, copies side by side, images', async () => {
    const file = join(dir, 'example.html');

    const { code, stdout } = await cli('bake', 'recipes/example.yml', '--local', '--html', file);

    expect(code).toBe(0);
    expect(stdout).toContain(`HTML report: ${file}`);
    // The text chart too: one row per copy region.
    expect(stdout).toMatch(/Timeline:\n[\s\S]*CopyImages eu-west-1 +│[\s\S]*CopyImages ap-southeast-2 +│/);
    const { page, problems } = await openFile(browser, file);
    const stages = await page
      .locator('#timeline g.bar')
      .evaluateAll((bars) =>
        bars.map((b) => `${b.getAttribute('data-stage')} ${b.getAttribute('data-lane')}`.trim()),
      );
    expect(stages).toEqual(
      expect.arrayContaining([
        'ResolveRecipe',
        'WaitForBuilder',
        'CopyImages eu-west-1',
        'CopyImages ap-southeast-2',
      ]),
    );
    expect(await page.locator('#images tbody tr').count()).toBe(3);
    expect(await page.locator('details.event').count()).toBe(2);
    expect(problems).toEqual([]);
  });
});
