import { createHash } from 'node:crypto';

/** Key order must not change the hash: recipes are hashed in a canonical JSON form. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 of the normalized recipe, user data included: the recipe's content identity. */
export function recipeHash(recipe: unknown): string {
  return createHash('sha256').update(canonicalJson(recipe)).digest('hex');
}

/**
 * What decides the image's content: the recipe's name, base selector, builder, bootstrap (user
 * data included) and image settings, plus the base image the selector resolved to. Distribution,
 * schedule and triggers are left out: sharing an image more widely does not change it.
 */
export function contentKey(
  recipe: { name: string; base: unknown; builder: unknown; bootstrap: unknown; image: unknown },
  baseImageId: string,
): string {
  const { name, base, builder, bootstrap, image } = recipe;
  return recipeHash({ baseImageId, recipe: { name, base, builder, bootstrap, image } });
}
