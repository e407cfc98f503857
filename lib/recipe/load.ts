import { readFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { parseDocument } from 'yaml';
import { embeddedCredentialMessage, findEmbeddedCredentials } from '../bootstrap/credentials.js';
import { wrapUserData } from '../bootstrap/wrapper.js';
import { type Problem, problemsOf } from '../problems.js';
import type { ResolvedRecipe } from '../state.js';
import { type Recipe, recipeSchema, USER_DATA_LIMIT_BYTES } from './schema.js';

export type { Problem };

export type LoadResult = { ok: true; recipe: ResolvedRecipe } | { ok: false; problems: Problem[] };

/**
 * The deepest nesting a recipe may have. A real one is under 15 levels (a trigger pattern's `$or`
 * inside `detail`); the limit keeps the recursive checks (zod, the pattern checks, YAML's own
 * composer) far from the stack limit, so a hostile recipe gets an answer, not a RangeError.
 */
export const MAX_NESTING_DEPTH = 32;
/** Alias expansions YAML may do (yaml's default, stated): a "billion laughs" recipe stops here. */
const MAX_ALIAS_COUNT = 100;

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
  return parseRecipeText(text, dirname(resolve(path)));
}

/** A recipe's YAML text, as if read from a file in `baseDir`. */
export async function parseRecipeText(text: string, baseDir: string): Promise<LoadResult> {
  // logLevel 'error': YAML's warnings (a mapping used as a key is stringified) would go to stderr
  // through process.emitWarning; the schema reports what is wrong with such a key as a problem.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: '(yaml)',
        message: yamlMessage((e.message.split('\n')[0] ?? '').replace(/:$/, '')),
      })),
    };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message =
      error instanceof ReferenceError
        ? `more than ${MAX_ALIAS_COUNT} alias expansions (a YAML alias bomb?): ${error.message}`
        : yamlMessage((error as Error).message);
    return { ok: false, problems: [{ path: '(yaml)', message }] };
  }
  return parseRecipe(raw, baseDir);
}

/** YAML's composer recurses: a document nested thousands of levels deep overflows the stack. */
function yamlMessage(message: string): string {
  return message.replace(
    /^Maximum call stack size exceeded/,
    `nested deeper than ${MAX_NESTING_DEPTH} levels`,
  );
}

export async function parseRecipe(raw: unknown, baseDir: string): Promise<LoadResult> {
  const tooDeep = nestingProblem(raw);
  if (tooDeep) return { ok: false, problems: [tooDeep] };
  const parsed = recipeSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error.issues) };
  const recipe = parsed.data;
  let script = recipe.bootstrap.script;
  if (recipe.bootstrap.file !== undefined) {
    const read = await readConfined(baseDir, recipe.bootstrap.file);
    if (typeof read !== 'string') return { ok: false, problems: [{ path: 'bootstrap.file', ...read }] };
    script = read;
    const credentials = findEmbeddedCredentials(read);
    if (credentials.length > 0)
      return {
        ok: false,
        problems: credentials.map((c) => ({ path: 'bootstrap.file', message: embeddedCredentialMessage(c) })),
      };
  }
  const { file: _file, ...bootstrap } = recipe.bootstrap;
  const test = await inlineTestScript(recipe.test, baseDir);
  if (test && 'problems' in test) return { ok: false, problems: test.problems };
  const { test: _test, ...rest } = recipe;
  const resolved: ResolvedRecipe = {
    ...rest,
    bootstrap: { ...bootstrap, script: script ?? '' },
    ...(test ? { test: test.test } : {}),
  };
  const where = recipe.bootstrap.file !== undefined ? 'bootstrap.file' : 'bootstrap.script';
  if (resolved.bootstrap.platform === 'windows' && resolved.bootstrap.script.startsWith('#cloud-config')) {
    return {
      ok: false,
      problems: [{ path: where, message: 'cloud-config is for linux; windows takes PowerShell' }],
    };
  }
  const sizeProblem = checkUserDataSize(resolved);
  if (sizeProblem) return { ok: false, problems: [{ ...sizeProblem, path: where }] };
  const testSize = checkTestUserDataSize(resolved);
  return testSize
    ? {
        ok: false,
        problems: [{ ...testSize, path: recipe.test?.file !== undefined ? 'test.file' : 'test.script' }],
      }
    : { ok: true, recipe: resolved };
}

/** `test.file` read like `bootstrap.file` (inside the recipe's folder, no credentials), or `test.script` as is. */
async function inlineTestScript(
  test: Recipe['test'],
  baseDir: string,
): Promise<{ test: NonNullable<ResolvedRecipe['test']> } | { problems: Problem[] } | undefined> {
  if (!test) return undefined;
  const { file, ...rest } = test;
  if (file === undefined) return { test: { ...rest, script: rest.script ?? '' } };
  const read = await readConfined(baseDir, file);
  if (typeof read !== 'string') return { problems: [{ path: 'test.file', ...read }] };
  const credentials = findEmbeddedCredentials(read);
  if (credentials.length > 0)
    return {
      problems: credentials.map((c) => ({ path: 'test.file', message: embeddedCredentialMessage(c) })),
    };
  return { test: { ...rest, script: read } };
}

/** The first place `raw` nests deeper than the limit, found without recursion. */
function nestingProblem(raw: unknown): Problem | undefined {
  const stack: { value: unknown; path: string[] }[] = [{ value: raw, path: [] }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value, path } = next;
    if (value === null || typeof value !== 'object') continue;
    if (path.length > MAX_NESTING_DEPTH)
      return { path: path.join('.'), message: `nested deeper than ${MAX_NESTING_DEPTH} levels` };
    for (const [key, child] of Object.entries(value)) stack.push({ value: child, path: [...path, key] });
  }
  return undefined;
}

/**
 * A recipe may inline a file from its own folder or below, nothing else: not an absolute path,
 * not a `..` escape, not a symlink leading out (a recipe under review must not read the reviewer's
 * or the build machine's files into user data).
 */
async function readConfined(baseDir: string, file: string): Promise<string | { message: string }> {
  const outside = (how: string) => ({
    message: `${how}: a user data file must be inside the recipe's folder`,
  });
  if (isAbsolute(file)) return outside(`${file} is an absolute path`);
  if (!isInside(baseDir, resolve(baseDir, file))) return outside(`${file} leads out with ..`);
  try {
    const [base, target] = await Promise.all([realpath(baseDir), realpath(resolve(baseDir, file))]);
    if (!isInside(base, target)) return outside(`${file} is a link leading out`);
    return await readFile(target, 'utf8');
  } catch (error) {
    return {
      message: `cannot read user data file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    };
  }
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && rel.split(sep)[0] !== '..' && !isAbsolute(rel);
}

/** The test instances' user data is the test script wrapped the same way, under the same limit. */
export function checkTestUserDataSize(recipe: ResolvedRecipe): Problem | undefined {
  if (!recipe.test) return undefined;
  const problem = checkUserDataSize({
    ...recipe,
    bootstrap: { platform: recipe.bootstrap.platform, script: recipe.test.script, timeoutMinutes: 1 },
  });
  return problem && { ...problem, path: 'test.script' };
}

/** EC2 rejects user data over 16 KB (before base64); the wrapper counts against it too. */
export function checkUserDataSize(recipe: ResolvedRecipe): Problem | undefined {
  let wrapped: string;
  try {
    wrapped = wrapUserData({
      platform: recipe.bootstrap.platform,
      script: recipe.bootstrap.script,
      secrets: recipe.bootstrap.secrets,
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

export function formatProblems(file: string, problems: readonly Problem[]): string {
  return [
    `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
    ...problems.map((p) => `  ${p.path}: ${p.message}`),
  ].join('\n');
}
