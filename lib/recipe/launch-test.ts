import * as z from 'zod';
import { embeddedCredentialMessage, findEmbeddedCredentials } from '../bootstrap/credentials.js';
import { whenParsed } from './when-parsed.js';

/** The same rule as builder.instanceType: a family with a generation digit, a dot, a size. */
const instanceType = z
  .string()
  .regex(/^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as t3.micro');

const typeList = z
  .array(instanceType)
  .min(1, 'list at least one instance type, or leave instanceTypes out to test on the builder type')
  .max(10, 'at most 10 test instance types');
const typesByArchitecture = z.strictObject({ x86_64: typeList.optional(), arm64: typeList.optional() });

/** The listed test types for one architecture's bake; undefined: test on the builder's type. */
export function testTypesFor(
  listed: z.output<typeof launchTestSchema>['instanceTypes'],
  architecture: 'x86_64' | 'arm64',
): { types: string[]; path: string } | undefined {
  if (listed === undefined) return undefined;
  if (Array.isArray(listed)) return { types: listed, path: 'test.instanceTypes' };
  const types = listed[architecture];
  return types && { types, path: `test.instanceTypes.${architecture}` };
}

/**
 * The recipe's `test` block: after the image is available in the build region, one instance per
 * type is launched from it and runs this script through the same wrapper as the bootstrap (the
 * platform is bootstrap.platform's). Exit 0 passes; anything else fails the bake before any copy.
 */
export const launchTestSchema = z
  .strictObject({
    script: z
      .string()
      .min(1)
      .optional()
      .describe('Inline test script (shell or PowerShell, like bootstrap.script); exit 0 passes.'),
    file: z.string().min(1).optional().describe('Test script file, relative to the recipe file.'),
    instanceTypes: z
      .union([typeList, typesByArchitecture], {
        error: 'must be a list of instance types, or lists keyed by architecture (x86_64, arm64)',
      })
      .optional()
      .describe(
        "One test instance per type (e.g. one per family); keyed by architecture when the recipe bakes several. Default: the builder's instance type.",
      ),
    timeoutMinutes: z
      .number()
      .positive()
      .max(240)
      .default(15)
      .describe(
        'Budget for each test instance to boot, run the script and power off. Fractions are allowed.',
      ),
  })
  .superRefine(
    (t, ctx) => {
      if ((t.script === undefined) === (t.file === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'give the test script with exactly one of script or file' });
      }
      for (const found of findEmbeddedCredentials(t.script ?? ''))
        ctx.addIssue({ code: 'custom', path: ['script'], message: embeddedCredentialMessage(found) });
      const lists = Array.isArray(t.instanceTypes)
        ? [{ path: [] as string[], types: t.instanceTypes }]
        : Object.entries(t.instanceTypes ?? {}).map(([arch, types]) => ({
            path: [arch],
            types: types ?? [],
          }));
      for (const { path, types } of lists) {
        const seen = new Set<string>();
        types.forEach((type, i) => {
          if (seen.has(type))
            ctx.addIssue({
              code: 'custom',
              path: ['instanceTypes', ...path, i],
              message: `${type} is listed twice`,
            });
          seen.add(type);
        });
      }
      if (t.script?.startsWith('#cloud-config')) {
        ctx.addIssue({
          code: 'custom',
          path: ['script'],
          message: 'a test is a script whose exit code is the verdict, not a cloud-config',
        });
      }
    },
    whenParsed('script', 'file', 'instanceTypes'),
  );

export type LaunchTest = z.output<typeof launchTestSchema>;
