// The prebuilt CLI: cli/main.ts and everything it imports (the local runner, the handlers, the
// SDK) bundled by esbuild into dist/, so bin/ami-bake.mjs runs it with plain node; compiling
// TypeScript at run time (tsx) cost seconds per command. npm's `prepare` runs this after
// `npm ci`, and bin/ami-bake.mjs runs it again whenever a source is newer than the build, so a
// checkout never runs stale code. Plain JavaScript: it must run before anything is built.
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// One level below the root, as local/ and cli/ are: code that finds the checkout through
// import.meta.url (`<module dir>/..`: statemachine/, .venv-emulator/) finds the same root.
// AMI_BAKE_DIST names another folder there (tests build into their own).
export const distDir = join(root, process.env.AMI_BAKE_DIST ?? 'dist');
/** Names the current entry file and what it was built from; replaced atomically by each build. */
const manifestPath = join(distDir, 'ami-bake.json');
/** Inputs outside the bundle's own sources that change what it holds. */
const alwaysChecked = ['package.json', 'node_modules/.package-lock.json', 'scripts/build-cli.mjs'];

function readManifest() {
  try {
    return JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The built entry, or why it cannot be used as it is (missing, or a source is newer). */
export function builtEntry() {
  const manifest = readManifest();
  if (!manifest || !existsSync(join(distDir, manifest.entry))) return { stale: 'not built yet' };
  for (const file of [...manifest.inputs, ...alwaysChecked]) {
    let mtime;
    try {
      mtime = statSync(join(root, file)).mtimeMs;
    } catch {
      if (alwaysChecked.includes(file)) continue;
      return { stale: `${file} was removed` };
    }
    if (mtime > manifest.builtAt) return { stale: `${file} changed`, entry: join(distDir, manifest.entry) };
  }
  return { entry: join(distDir, manifest.entry) };
}

/** Builds dist/ and returns the entry's path. Safe to run from several processes at once. */
export async function buildCli() {
  const { build } = await import('esbuild');
  // Sources saved while the build runs are newer than this and trigger the next rebuild.
  const builtAt = Date.now();
  const result = await build({
    absWorkingDir: root,
    entryPoints: { 'ami-bake': 'cli/main.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // The SDK's ES modules: CommonJS modules re-export every command through copied properties,
    // which cost hundreds of milliseconds at start-up, and cannot be tree-shaken.
    mainFields: ['module', 'main'],
    // Code only some commands need (the local runner, the handlers, aws-local-stepfunctions)
    // stays in chunks imported on first use.
    splitting: true,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    outdir: distDir,
    write: false,
    metafile: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    // Some bundled CommonJS dependencies require() Node's built-ins.
    banner: {
      js: "import { createRequire as __amiBakeRequire } from 'node:module'; const require = __amiBakeRequire(import.meta.url);",
    },
  });
  mkdirSync(distDir, { recursive: true });
  // Content-hashed names: a file already there is the same file. Written beside and renamed, so
  // a process running an older build never reads half a file.
  for (const file of result.outputFiles) {
    if (existsSync(file.path)) continue;
    const tmp = `${file.path}.${randomUUID()}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === 'cli/main.ts')?.[0];
  if (!entry) throw new Error('esbuild produced no entry for cli/main.ts');
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/'));
  const files = result.outputFiles.map((f) => basename(f.path));
  const previous = readManifest();
  const now = Date.now();
  // A process started on an earlier build still imports its chunks lazily (the runner, the
  // handlers, SDK credential providers), within seconds of starting: its files are kept a while.
  const retired = [
    ...(previous?.retired ?? []),
    ...(previous?.files ? [{ files: previous.files, retiredAt: now }] : []),
  ];
  const keep = retired.filter((r) => now - r.retiredAt < RETIRED_KEPT_MS);
  const manifest = { entry: basename(entry), builtAt, inputs, files, retired: keep };
  const tmp = `${manifestPath}.${randomUUID()}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmp, manifestPath);
  prune(new Set([...files, ...keep.flatMap((r) => r.files)]));
  return join(distDir, manifest.entry);
}

const RETIRED_KEPT_MS = 10 * 60 * 1000;

/** Removes the files of builds retired long enough ago, and strays (of interrupted builds). */
function prune(kept) {
  const strayAge = Date.now() - RETIRED_KEPT_MS;
  for (const name of readdirSync(distDir)) {
    if (kept.has(name) || name === basename(manifestPath)) continue;
    const path = join(distDir, name);
    try {
      if (statSync(path).mtimeMs < strayAge) unlinkSync(path);
    } catch {
      // another build pruned it first
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  try {
    const entry = await buildCli();
    console.log(`built ${relative(root, entry)} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  } catch (error) {
    // Not fatal for `npm ci` (prepare): bin/ami-bake.mjs builds again on first use and reports
    // the error there, where the command that needs the CLI fails.
    console.error(`ami-bake: building the CLI failed; bin/ami-bake.mjs will try again: ${error.message}`);
  }
}
