/**
 * Serverless variable source: the Regions property of the Ec2EventForwarding custom resource
 * (serverless.yml). Computed at package time from the packaged catalog, so a recipe that adds or
 * drops a region changes the property and CloudFormation updates the forwarding (a custom
 * resource runs only when its properties change). Runs scripts/forwarding-regions.ts under tsx,
 * as scripts/recipe-resources.cjs does.
 */
const { execFile } = require('node:child_process');
const { resolve } = require('node:path');
const { promisify } = require('node:util');

const ROOT = resolve(__dirname, '..');

module.exports = async function forwardingRegions() {
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/forwarding-regions.ts', 'recipes'],
      { cwd: ROOT },
    );
    return JSON.parse(stdout);
  } catch (error) {
    const stderr = typeof error.stderr === 'string' ? error.stderr.trim() : '';
    throw new Error(stderr || error.message);
  }
};
