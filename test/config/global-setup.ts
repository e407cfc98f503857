import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { PACKAGE_STAGE, packageTemplate } from './package-template.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder `serverless package` wrote for the config project (test/config/package-template.ts). */
    packagedTemplateDir: string;
  }
}

/**
 * Packages the template once for the whole config project. Two files packaging at once in one
 * checkout clash on osls's .serverless/ and serverless-esbuild's .esbuild/ work folders (zips
 * lose files), and packaging is the slowest step of the project.
 */
export default async function setup(project: TestProject) {
  const { dir } = await packageTemplate(PACKAGE_STAGE);
  project.provide('packagedTemplateDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
