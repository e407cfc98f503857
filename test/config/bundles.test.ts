import { beforeAll, describe, expect, it } from 'vitest';
import { clientsAllowed, type FunctionBundle, functionBundles, sdkClients } from '../../scripts/bundles.js';

/**
 * What each Lambda bundle holds, from esbuild's metafile with serverless.yml's own options: an SDK
 * client package costs its size and import time whether or not it is called
 * (docs/decisions/0003-lean-lambda-bundles.md). Sizes and times are the benchmark's business.
 */

let bundles: FunctionBundle[];

beforeAll(async () => {
  bundles = await functionBundles();
}, 120_000);

describe('each Lambda bundle', () => {
  // The role is the spec: scripts/function-roles.cjs grants exactly the calls a function makes.
  it('holds exactly the SDK clients of the calls its role allows, no other', () => {
    for (const { key, inputs } of bundles) {
      expect(clientsAllowed(key), `${key} has a role`).toBeDefined();
      expect(sdkClients(inputs), key).toEqual(clientsAllowed(key));
    }
  });

  // `import { z } from 'zod'` is a re-exported namespace, which esbuild keeps whole, with zod's
  // messages in ~50 languages: write `import * as z from 'zod'`.
  it("holds zod's English messages and no other language", () => {
    for (const { key, inputs } of bundles) {
      const languages = inputs
        .flatMap((f) => f.match(/node_modules\/zod\/v4\/locales\/(.+)$/)?.[1] ?? [])
        .filter((file) => file !== 'index.js');

      expect(languages, key).toEqual(['en.js']);
    }
  });
});
