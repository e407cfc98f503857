/**
 * esbuild plugins for the Lambda bundles: `custom.esbuild.plugins` in serverless.yml. Plain
 * CommonJS: serverless-esbuild `require()`s this file and calls it with the Serverless instance.
 * Why: docs/decisions/0003-lean-lambda-bundles.md.
 */
const { mkdirSync, readdirSync, renameSync } = require('node:fs');
const path = require('node:path');

/**
 * Source maps stay out of the zips (a map was most of its zip, and reading it at every cold start
 * with --enable-source-maps slowed each one): esbuild writes `handler.mjs.map` next to the bundle
 * (`sourcemap: external`, so the bundle names no map), and this moves it to
 * `<package dir>/sourcemaps/functions/<name>/handler.mjs.map` before serverless-esbuild zips the
 * build folder (`.serverless/`, or the `--package` directory). The path mirrors the
 * Lambda's `/var/task/functions/<name>/handler.mjs`: docs/deploy.md, "Reading a stack trace".
 */
function sourceMapsOutsideZips(mapsDir) {
  return {
    name: 'source-maps-outside-zips',
    setup(build) {
      const { outdir, entryPoints } = build.initialOptions;
      build.onEnd((result) => {
        if (result.errors.length > 0 || !outdir || !Array.isArray(entryPoints) || entryPoints.length !== 1) {
          return;
        }
        // The entry's folder, relative to the service: functions/<name>.
        const target = path.join(mapsDir, path.dirname(String(entryPoints[0])));
        for (const file of readdirSync(outdir).filter((f) => f.endsWith('.map'))) {
          mkdirSync(target, { recursive: true });
          renameSync(path.join(outdir, file), path.join(target, file));
        }
      });
    },
  };
}

/**
 * Next to the zips: osls builds the package in `<service>/.serverless` and, given `--package <dir>`,
 * moves all of it there (`moveArtifactsToPackage` in osls `lib/plugins/aws/common/lib/artifacts.js`).
 */
function mapsDirOf(serverless) {
  return path.join(serverless.serviceDir ?? process.cwd(), '.serverless', 'sourcemaps');
}

module.exports = (serverless) => [sourceMapsOutsideZips(mapsDirOf(serverless))];
