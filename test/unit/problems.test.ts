import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { problemsOf, problemsText } from '../../lib/problems.js';

const schema = z.strictObject({
  name: z.string(),
  builder: z.strictObject({ instanceType: z.string() }),
});
const issuesOf = (value: unknown) => schema.safeParse(value).error?.issues ?? [];

describe('problemsOf', () => {
  it('names every problem by its path, and the value as a whole by the root name', () => {
    expect(problemsOf(issuesOf({ name: 1, builder: {} }))).toEqual([
      { path: 'name', message: 'Invalid input: expected string, received number' },
      { path: 'builder.instanceType', message: 'Invalid input: expected string, received undefined' },
    ]);
    expect(problemsOf(issuesOf('web'))).toEqual([
      { path: '(root)', message: 'Invalid input: expected object, received string' },
    ]);
    expect(problemsOf(issuesOf('web'), { root: '(body)' })[0]?.path).toBe('(body)');
  });

  it('reports unknown fields together at their parent, for a recipe file', () => {
    const issues = issuesOf({ name: 'web', builder: { instanceType: 't3.micro', colour: 1, size: 2 } });

    expect(problemsOf(issues)).toEqual([{ path: 'builder', message: 'unknown fields colour, size' }]);
  });

  it('reports each unknown field at its own path after the prefix, for an API request', () => {
    const issues = issuesOf({ name: 'web', builder: { instanceType: 't3.micro', colour: 1 }, extra: 2 });

    expect(problemsOf(issues, { prefix: 'query', unknownKey: 'unknown query parameter' })).toEqual([
      { path: 'query.builder.colour', message: 'unknown query parameter' },
      { path: 'query.extra', message: 'unknown query parameter' },
    ]);
  });

  it('gives a bad record key the reason its key schema gave', () => {
    const tags = z.record(
      z.string().refine((k) => !k.startsWith('ami-bake:'), 'is reserved'),
      z.string(),
    );
    const issues = tags.safeParse({ 'ami-bake:bake-id': 'x' }).error?.issues ?? [];

    expect(problemsOf(issues)).toEqual([{ path: 'ami-bake:bake-id', message: 'is reserved' }]);
  });
});

describe('problemsText', () => {
  it('puts the problems on one line, path first', () => {
    expect(
      problemsText([
        { path: 'name', message: 'is required' },
        { path: '(root)', message: 'is wrong' },
      ]),
    ).toBe('name: is required; (root): is wrong');
  });
});
