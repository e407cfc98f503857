import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { wrapUserData } from '../bootstrap/wrapper.js';
import type { ResolvedRecipe } from '../state.js';
import { recipeSchema, USER_DATA_LIMIT_BYTES } from './schema.js';

export interface Problem {
  path: string;
  message: string;
}

export type LoadResult = { ok: true; recipe: ResolvedRecipe } | { ok: false; problems: Problem[] };

/**
 * Reads a recipe file: YAML syntax, the schema, the user-data file and the wrapped size. Every
 * problem is reported with its path, not just the first, so one run fixes a recipe.
 */
export async function loadRecipeFile(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return {
      ok: false,
      problems: [{ path: '(file)', message: `cannot read ${path}: ${(error as Error).message}` }],
    };
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: '(yaml)',
        message: (e.message.split('\n')[0] ?? '').replace(/:$/, ''),
      })),
    };
  }
  return parseRecipe(doc.toJS(), dirname(resolve(path)));
}

export async function parseRecipe(raw: unknown, baseDir: string): Promise<LoadResult> {
  const parsed = recipeSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: toProblems(parsed.error.issues) };
  const recipe = parsed.data;
  let script = recipe.bootstrap.script;
  if (recipe.bootstrap.file !== undefined) {
    try {
      script = await readFile(resolve(baseDir, recipe.bootstrap.file), 'utf8');
    } catch (error) {
      const message = `cannot read user data file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
      return { ok: false, problems: [{ path: 'bootstrap.file', message }] };
    }
  }
  const { file: _file, ...bootstrap } = recipe.bootstrap;
  const resolved = { ...recipe, bootstrap: { ...bootstrap, script: script ?? '' } };
  const where = recipe.bootstrap.file !== undefined ? 'bootstrap.file' : 'bootstrap.script';
  if (resolved.bootstrap.platform === 'windows' && resolved.bootstrap.script.startsWith('#cloud-config')) {
    return {
      ok: false,
      problems: [{ path: where, message: 'cloud-config is for linux; windows takes PowerShell' }],
    };
  }
  const sizeProblem = checkUserDataSize(resolved);
  return sizeProblem
    ? { ok: false, problems: [{ ...sizeProblem, path: where }] }
    : { ok: true, recipe: resolved };
}

/** EC2 rejects user data over 16 KB (before base64); the wrapper counts against it too. */
export function checkUserDataSize(recipe: ResolvedRecipe): Problem | undefined {
  let wrapped: string;
  try {
    wrapped = wrapUserData({
      platform: recipe.bootstrap.platform,
      script: recipe.bootstrap.script,
      bakeId: 'x'.repeat(36),
    });
  } catch (error) {
    // The wrapper refuses what it cannot embed safely (a NUL byte, `</powershell>` on Windows).
    return { path: 'bootstrap.script', message: (error as Error).message };
  }
  const bytes = Buffer.byteLength(wrapped, 'utf8');
  if (bytes <= USER_DATA_LIMIT_BYTES) return undefined;
  const own = Buffer.byteLength(recipe.bootstrap.script, 'utf8');
  return {
    path: 'bootstrap.script',
    message: `user data is ${bytes} bytes once wrapped (${own} of yours), over EC2's limit of ${USER_DATA_LIMIT_BYTES}; move large content into a package or an S3 download`,
  };
}

export function toProblems(issues: readonly z.core.$ZodIssue[]): Problem[] {
  return issues.map((i) => {
    let message = i.message;
    if (i.code === 'unrecognized_keys')
      message = `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
    // A bad record key (a reserved tag prefix) carries its reason in nested issues.
    if (i.code === 'invalid_key' && i.issues.length > 0) message = i.issues.map((x) => x.message).join('; ');
    return { path: i.path.join('.') || '(root)', message };
  });
}

export function formatProblems(file: string, problems: readonly Problem[]): string {
  return [
    `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
    ...problems.map((p) => `  ${p.path}: ${p.message}`),
  ].join('\n');
}
