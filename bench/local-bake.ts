/**
 * Target 1: a local bake of recipes/example.yml (three regions) on a warm emulator, stage by
 * stage. In the emulator EC2 state changes are instant, so the figures measure the pipeline's own
 * overhead (handlers, SDK calls, DynamoDB, EventBridge, the interpreter), not AWS's build times.
 */
import { loadRecipeFile } from '../lib/recipe/load.js';
import { ensureEmulator, startEmulator } from '../local/emulator.js';
import { median, type Section } from './section.js';

async function localBakes(runs: number) {
  await ensureEmulator();
  const emulator = await startEmulator();
  process.env.AWS_ENDPOINT_URL = emulator.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'bench';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench';
  try {
    const loaded = await loadRecipeFile('recipes/example.yml');
    if (!loaded.ok) throw new Error('example recipe is invalid');
    const { runLocalBake } = await import('../local/runner.js');
    const walls: number[] = [];
    const stages = new Map<string, number[]>();
    for (let i = 0; i < runs; i++) {
      const result = await runLocalBake({
        recipe: loaded.recipe,
        region: 'us-east-1',
        onProgress: (p) => {
          if (p.kind === 'state' && p.phase === 'done' && p.seconds !== undefined) {
            stages.set(p.label, [...(stages.get(p.label) ?? []), p.seconds]);
          }
        },
      });
      if (result.status !== 'succeeded')
        throw new Error(`bake ${i} failed: ${JSON.stringify(result.failure)}`);
      walls.push(result.durationSeconds);
    }
    return { walls, stages: [...stages.entries()].map(([label, xs]) => ({ label, ms: median(xs) * 1000 })) };
  } finally {
    await emulator.stop();
  }
}

export const localBakeSection: Section = {
  name: 'local-bake',
  async run({ runs }) {
    const bakes = await localBakes(runs);
    return {
      title: 'Local bake',
      targets: [],
      markdown: `Wall time per bake inside one process: median ${median(bakes.walls).toFixed(2)} s (runs: ${bakes.walls.map((w) => w.toFixed(2)).join(', ')} s).
The first bake in a process also pays for importing the handlers and the SDK.

| Stage | Median (ms) |
| --- | ---: |
${bakes.stages.map((s) => `| ${s.label} | ${s.ms.toFixed(0)} |`).join('\n')}`,
    };
  },
};
