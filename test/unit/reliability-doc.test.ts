import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matrixTable, RELIABILITY_DOC } from '../../scripts/reliability.js';
import { SCENARIOS } from '../e2e/fault-matrix/scenarios.js';

describe('docs/reliability.md', () => {
  const doc = readFileSync(RELIABILITY_DOC, 'utf8');

  it('lists the fault matrix exactly as the tests run it', () => {
    expect(doc).toContain(matrixTable());
  });

  it('has a measured row for every scenario of the last run', () => {
    const measured = doc.split('## Last run')[1] ?? '';
    for (let i = 1; i <= SCENARIOS.length; i++) expect(measured).toMatch(new RegExp(`^\\| ${i} \\| `, 'm'));
    expect(measured).not.toContain('not run');
  });

  it('covers at least 40 scenarios, every stage and every kind of trouble the issue names', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(40);
    const kinds = new Set(SCENARIOS.map((s) => s.kind));
    for (const k of [
      'throttled, recovers',
      'throttled beyond the budget',
      '5xx',
      'response lost after the effect',
      'new id not yet visible',
      'resource ends failed',
      'cancel mid-way',
      'builder never reports',
      'builder terminated from outside',
      'copy fails in one region',
      "cleanup's own calls fail",
      'event publishing fails',
    ])
      expect(kinds).toContain(k);
    const names = new Set(SCENARIOS.map((s) => s.name));
    expect(names.size).toBe(SCENARIOS.length);
  });
});
