import { describe, expect, it } from 'vitest';
import { type BakeReport, renderHtmlReport } from '../../../lib/bakes/report.js';

const report: BakeReport = {
  bakeId: 'web_2026-11-30T12-00-00Z_ab12',
  recipe: 'web',
  status: 'FAILED',
  timeline: {
    startedAt: '2026-11-30T12:00:00.000Z',
    totalSeconds: 90,
    bars: [
      { stage: 'ResolveRecipe', lane: '', startSeconds: 0, endSeconds: 1, outcome: 'succeeded' },
      { stage: 'CopyImage', lane: 'eu-west-1', startSeconds: 30, endSeconds: 60, outcome: 'succeeded' },
      { stage: 'CopyImage', lane: 'ap-southeast-2', startSeconds: 30, endSeconds: 90, outcome: 'failed' },
    ],
  },
  images: [
    { region: 'us-east-1', imageId: 'ami-0123456789abcdef0', snapshotIds: ['snap-0123456789abcdef0'] },
  ],
  failure: { stage: 'CopyImages', error: 'ImageFailedError', cause: '<script>alert(1)</script> copy failed' },
  events: [{ detailType: 'Bake Failed', time: '2026-11-30T12:01:30Z', detail: { note: '"quoted" & <b>' } }],
  generatedAt: '2026-11-30T12:02:00.000Z',
};

describe('the HTML bake report', () => {
  const html = renderHtmlReport(report);

  it('draws one bar per stage and lane, coloured by outcome', () => {
    expect(html.match(/<g class="bar"/g)).toHaveLength(3);
    expect(html).toContain('data-lane="ap-southeast-2" data-outcome="failed"');
  });

  it('escapes everything that comes from the bake', () => {
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&amp; &lt;b&gt;');
    expect(html).not.toContain('<b>');
  });

  it('loads nothing from elsewhere: no script, no external URL', () => {
    expect(html).not.toMatch(/<script|<link|src="http|url\(http/i);
    expect(html).toContain("default-src 'none'");
  });

  it('lists the images and names the failed stage', () => {
    expect(html).toContain('ami-0123456789abcdef0');
    expect(html).toMatch(/ImageFailedError<\/strong> at <code>CopyImages<\/code>/);
  });
});
