#!/usr/bin/env node
// The ami-bake CLI (and `npm run bake`): runs the prebuilt bundle in dist/ with plain node. The
// bundle is rebuilt first when a source is newer than it (scripts/build-cli.mjs), so a checkout
// never runs stale code. The work is in cli/main.ts.
import { readFileSync } from 'node:fs';
import module from 'node:module';

// package.json's engines is the one statement of the Node versions ami-bake runs on (22, as the
// AWS SDK requires from its releases of January 2027). npm only warns about engines, on install,
// so the CLI checks before loading anything: one line instead of an SDK warning or a stack trace.
const required = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node;
const major = (version) => Number(/\d+/.exec(version)?.[0]);
if (major(process.version) < major(required)) {
  if (process.env.AMI_BAKE_IGNORE_NODE !== '1') {
    process.stderr.write(
      `ami-bake: Node.js ${required} is required, this is ${process.version} (set AMI_BAKE_IGNORE_NODE=1 to run anyway)\n`,
    );
    // 3, the CLI's code for a configuration error (cli/main.ts): nothing was done.
    process.exit(3);
  }
  // Told to run anyway: the SDK's warning about the Node version would only repeat it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
// Node >= 22.1 keeps V8's compiled code of the bundle on disk: later starts skip compiling it
// (a few hundred milliseconds of CPU for a local bake). 22.0 (and an older Node run anyway) has no
// such cache.
module.enableCompileCache?.();
const { buildCli, builtEntry } = await import('../scripts/build-cli.mjs');
const built = builtEntry();
let entry = built.entry;
if (built.stale) {
  try {
    entry = await buildCli();
  } catch (error) {
    // No esbuild (an install without dev dependencies) or a source that does not compile: an
    // earlier build still runs, with a warning; without one there is nothing to run.
    if (!entry) throw error;
    process.stderr.write(
      `ami-bake: running an older build (${built.stale}; rebuilding failed: ${error.message.split('\n')[0]})\n`,
    );
  }
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
