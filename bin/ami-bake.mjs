#!/usr/bin/env node
// The ami-bake CLI (and `npm run bake`): runs the prebuilt bundle in dist/ with plain node. The
// bundle is rebuilt first when a source is newer than it (scripts/build-cli.mjs), so a checkout
// never runs stale code. The work is in cli/main.ts.
import module from 'node:module';

// The SDK warns on Node < 22 about its releases after January 2027; package.json pins the SDK and
// allows Node 20, so the warning would only bury the CLI's one-line errors.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Node >= 22.1 keeps V8's compiled code of the bundle on disk: later starts skip compiling it
// (a few hundred milliseconds of CPU for a local bake). Earlier Nodes have no such cache.
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
