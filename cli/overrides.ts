import { UsageError } from './errors.js';

/**
 * `--set path=value` → the start request's overrides. Only what overridesSchema
 * (lib/start/request.ts) allows; the start path validates the result like a recipe.
 */
const SETTABLE: Record<string, 'string' | 'number' | 'list'> = {
  'builder.instanceType': 'string',
  'builder.subnetId': 'string',
  'builder.securityGroupIds': 'list',
  'bootstrap.timeoutMinutes': 'number',
  'image.description': 'string',
  'image.tags.<key>': 'string',
  'distribution.regions': 'list',
};

export const SET_HELP = Object.entries(SETTABLE)
  .map(([path, kind]) => `${path}=${kind === 'list' ? 'a,b' : kind === 'number' ? 'N' : 'text'}`)
  .join(', ');

export function parseSets(sets: readonly string[]): Record<string, unknown> | undefined {
  if (sets.length === 0) return undefined;
  const overrides: Record<string, Record<string, unknown>> = {};
  const problems: { path: string; message: string }[] = [];
  for (const set of sets) {
    const eq = set.indexOf('=');
    const path = eq < 0 ? set : set.slice(0, eq);
    const value = set.slice(eq + 1);
    const tag = /^image\.tags\.(.+)$/.exec(path)?.[1];
    const kind = tag ? 'string' : SETTABLE[path];
    if (eq < 0) problems.push({ path: `--set ${set}`, message: 'expected path=value' });
    else if (!kind) problems.push({ path: `--set ${path}`, message: `cannot be set; one of: ${SET_HELP}` });
    else if (kind === 'number' && !/^\d+$/.test(value))
      problems.push({
        path: `--set ${path}`,
        message: `expected a whole number, not ${JSON.stringify(value)}`,
      });
    else {
      const [section = '', key = ''] = path.split('.');
      const target = overrides[section] ?? {};
      overrides[section] = target;
      if (tag) target.tags = { ...(target.tags as Record<string, string> | undefined), [tag]: value };
      else
        target[key] =
          kind === 'number' ? Number(value) : kind === 'list' ? value.split(',').filter(Boolean) : value;
    }
  }
  if (problems.length > 0)
    throw new UsageError(problems.map((p) => `${p.path}: ${p.message}`).join('\n'), problems);
  return overrides;
}
