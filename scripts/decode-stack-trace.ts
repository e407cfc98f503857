/**
 * Turns a Lambda stack trace (minified bundle positions) back into source positions, with the
 * source maps `serverless package` keeps beside the zips (scripts/esbuild-plugins.cjs). The zips
 * carry no map and the functions run without --enable-source-maps: docs/deploy.md, "Reading a
 * stack trace".
 *
 *   npx tsx scripts/decode-stack-trace.ts [.serverless/sourcemaps] < trace.txt
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** `/var/task/functions/x/handler.mjs:1:2345`, also as a file:// URL. */
const FRAME = /(?:file:\/\/)?\/var\/task\/([\w./-]+\.mjs):(\d+):(\d+)/g;

export function decodeStackTrace(trace: string, mapsDir: string): string {
  const maps = new Map<string, SourceMap | undefined>();
  const mapOf = (bundle: string) => {
    if (!maps.has(bundle)) {
      const file = join(mapsDir, `${bundle}.map`);
      maps.set(bundle, existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : undefined);
    }
    return maps.get(bundle);
  };
  return trace.replace(FRAME, (frame, bundle: string, line: string, column: string) => {
    const origin = mapOf(bundle)?.findOrigin(Number(line), Number(column));
    if (!origin || !('fileName' in origin)) return frame;
    // The map's sources are relative to the bundle's folder: ../../lib/x.ts → lib/x.ts.
    const source = origin.fileName.replace(/^(\.\.\/)+/, '');
    return `${source}:${origin.lineNumber}:${origin.columnNumber}`;
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const mapsDir = process.argv[2] ?? '.serverless/sourcemaps';
  process.stdout.write(decodeStackTrace(readFileSync(0, 'utf8'), mapsDir));
}
