import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureVenv } from './venv.js';

/**
 * The template checkers (cfn-lint, checkov), pinned in local/tools-requirements.txt and installed
 * into a project-local virtualenv on first use, as local/emulator.ts installs moto: a clean clone,
 * and CI, install them itself. Their own venv: checkov pins many libraries moto must not share.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const requirements = join(root, 'local', 'tools-requirements.txt');
export const toolsVenvDir = process.env.AMI_BAKE_TOOLS_VENV ?? join(root, '.venv-tools');

export type Tool = 'cfn-lint' | 'checkov';

/** The path of a pinned tool's executable, installing the tools first if needed. */
export async function ensureTool(tool: Tool, log: (line: string) => void = () => {}): Promise<string> {
  await ensureVenv({
    dir: toolsVenvDir,
    requirements,
    what: 'the template checkers (a few minutes)',
    log,
  });
  return join(toolsVenvDir, 'bin', tool);
}
