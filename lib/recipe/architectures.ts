import { createHash } from 'node:crypto';
import type * as z from 'zod';
import type { Architecture } from './schema.js';

/**
 * Several architectures in one request (docs/recipes.md#architectures): the recipe lists them,
 * each is baked by a child execution of the same state machine (decision 0006), and each child
 * picks its own base image and builder type from the recipe with the helpers here.
 */

/** In `base.ssmParameter`: the architecture of the bake reading it (AWS's public parameters end in it). */
export const ARCHITECTURE_TOKEN = '{architecture}';

type InstanceTypes = string | Partial<Record<Architecture, string>>;

interface BaseSelector {
  imageId?: string;
  ssmParameter?: string;
  filter?: { architecture?: Architecture } & Record<string, unknown>;
}

/** The parts of a recipe the architecture checks read. */
interface ArchitectureFields {
  architectures?: Architecture[];
  base: BaseSelector;
  builder: { instanceType?: InstanceTypes };
}

/** Cross-field checks of `architectures`, `base` and `builder.instanceType` (recipe schema). */
export function architectureProblems(r: ArchitectureFields, ctx: z.RefinementCtx): void {
  const listed = r.architectures;
  const problem = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  listed?.forEach((a, i) => {
    if (listed.indexOf(a) !== i) problem(['architectures', i], `${a} is listed twice`);
  });
  const several = new Set(listed ?? []).size > 1;
  const { base } = r;
  const tokened = base.ssmParameter?.includes(ARCHITECTURE_TOKEN) ?? false;
  if (tokened && !listed) {
    problem(
      ['base', 'ssmParameter'],
      `${ARCHITECTURE_TOKEN} needs architectures: list the architectures to bake`,
    );
  }
  if (several && base.imageId !== undefined) {
    problem(
      ['base', 'imageId'],
      `names one image, of one architecture; to bake ${listed?.join(' and ')} use ssmParameter with ${ARCHITECTURE_TOKEN} or a filter`,
    );
  }
  if (several && base.ssmParameter !== undefined && !tokened) {
    problem(
      ['base', 'ssmParameter'],
      `names one image, of one architecture; put ${ARCHITECTURE_TOKEN} in it (e.g. /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${ARCHITECTURE_TOKEN})`,
    );
  }
  if (several && base.filter?.architecture !== undefined) {
    problem(['base', 'filter', 'architecture'], "leave it out: each architecture's bake filters on its own");
  }
  const types = r.builder.instanceType;
  if (types === undefined) return; // sized by requirements: the architecture comes from the bake
  if (typeof types === 'string') {
    if (several) {
      problem(
        ['builder', 'instanceType'],
        'one instance type runs one architecture: name one per architecture, e.g. {x86_64: t3.micro, arm64: t4g.micro}',
      );
    }
    return;
  }
  for (const a of listed ?? []) {
    if (types[a] === undefined)
      problem(['builder', 'instanceType', a], `architectures lists ${a}: name its instance type`);
  }
  for (const a of Object.keys(types) as Architecture[]) {
    if (listed && !listed.includes(a))
      problem(['builder', 'instanceType', a], `${a} is not in architectures`);
  }
}

/** The base selector one architecture's bake uses: its parameter, or the filter narrowed to it. */
export function baseFor<B extends BaseSelector>(base: B, architecture: Architecture | undefined): B {
  if (!architecture) return base;
  if (base.ssmParameter?.includes(ARCHITECTURE_TOKEN)) {
    return { ...base, ssmParameter: base.ssmParameter.replaceAll(ARCHITECTURE_TOKEN, architecture) };
  }
  if (base.filter) return { ...base, filter: { ...base.filter, architecture } };
  return base;
}

/** The builder type for an architecture: the one named, or the one keyed by it; undefined if none. */
export function instanceTypeFor(
  types: InstanceTypes | undefined,
  architecture: Architecture,
): string | undefined {
  return typeof types === 'object' ? types[architecture] : types;
}

/**
 * The bake id (and execution name) of one architecture's child. Both are limited to 80
 * characters (bakeIdSchema; StartExecution's name): a long parent id is shortened, with a hash of
 * it so two long ids that share a beginning still give different children.
 */
export function childBakeId(parent: string, architecture: Architecture): string {
  const plain = `${parent}-${architecture}`;
  if (plain.length <= 80) return plain;
  const hash = createHash('sha256').update(parent).digest('hex').slice(0, 8);
  return `${parent.slice(0, 80 - architecture.length - hash.length - 2)}-${hash}-${architecture}`;
}

/**
 * The recipe as one architecture's bake uses it: its base selector and its builder type. A recipe
 * that lists no architectures and names one type is returned as it is.
 */
export function forArchitecture<
  R extends { architectures?: Architecture[]; base: BaseSelector; builder: { instanceType?: InstanceTypes } },
>(recipe: R, architecture: Architecture | undefined): R {
  if (!architecture) return recipe;
  const types = recipe.builder.instanceType;
  const base = recipe.architectures ? baseFor(recipe.base, architecture) : recipe.base;
  if (typeof types !== 'object' && base === recipe.base) return recipe;
  const builder = { ...recipe.builder };
  const instanceType = instanceTypeFor(types, architecture);
  if (instanceType === undefined) delete builder.instanceType;
  else builder.instanceType = instanceType;
  // It still validates as a recipe (later states parse it again): one architecture, one selector.
  return { ...recipe, ...(recipe.architectures ? { architectures: [architecture] } : {}), base, builder };
}
