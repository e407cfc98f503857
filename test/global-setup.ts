import { ensureEmulator } from '../local/emulator.js';

/** Installs the emulator (pinned moto, project-local virtualenv) once, before any test file starts. */
export default async function setup() {
  await ensureEmulator((line) => process.stderr.write(`${line}\n`));
}
