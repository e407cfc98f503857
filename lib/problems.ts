import type { z } from 'zod';

/** One problem with a value, named by where it is: `bootstrap.script`, `overrides.builder.x`, `query.limit`. */
export interface Problem {
  path: string;
  message: string;
}

export interface ProblemsOptions {
  /** Where the value came from (`query`, `path`): put before every path. */
  prefix?: string;
  /** The path of a problem with the value as a whole. */
  root?: string;
  /**
   * Set, each unknown key is a problem of its own at its own path with this message (an API names
   * one field a problem); unset, one problem at the parent names them all (a recipe file's report).
   */
  unknownKey?: string;
}

/** Zod issues as problems, so every edge (recipes, API bodies, state inputs, config) reports alike. */
export function problemsOf(issues: readonly z.core.$ZodIssue[], options: ProblemsOptions = {}): Problem[] {
  const { prefix, root = '(root)', unknownKey } = options;
  const at = (path: readonly PropertyKey[]) =>
    [prefix, ...path.map(String)].filter((p) => p !== undefined).join('.') || root;
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      if (unknownKey !== undefined) {
        return issue.keys.map((key) => ({ path: at([...issue.path, key]), message: unknownKey }));
      }
      const fields = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
      return [{ path: at(issue.path), message: fields }];
    }
    // A bad record key (a reserved tag prefix) carries its reason in nested issues.
    if (issue.code === 'invalid_key' && issue.issues.length > 0) {
      return [{ path: at(issue.path), message: issue.issues.map((i) => i.message).join('; ') }];
    }
    return [{ path: at(issue.path), message: issue.message }];
  });
}

/** Problems on one line, for an error message: `a.b: message; c: message`. */
export function problemsText(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('; ');
}
