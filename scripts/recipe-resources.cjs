/**
 * Serverless variable source: `resources: - ${file(scripts/recipe-resources.cjs)}` in
 * serverless.yml. osls loads `${file(x.js|x.cjs)}` with require() and awaits the function it
 * exports; the project is ESM TypeScript, so this CommonJS shim runs the generator
 * (scripts/recipe-resources.ts) under tsx in a child process and returns its JSON.
 */
const { execFile } = require('node:child_process');
const { resolve } = require('node:path');
const { promisify } = require('node:util');

const ROOT = resolve(__dirname, '..');

module.exports = async function recipeResources() {
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/recipe-resources.ts', 'recipes'],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    return JSON.parse(stdout);
  } catch (error) {
    // The generator prints every problem of every bad recipe on stderr: that is the message.
    const stderr = typeof error.stderr === 'string' ? error.stderr.trim() : '';
    throw new Error(stderr || error.message);
  }
};
