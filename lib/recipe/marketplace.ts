import type { BaseImage } from '../state.js';
import type { Recipe } from './schema.js';

/** Where a user accepts a Marketplace product's terms (the page RunInstances' OptInRequired names). */
export const marketplacePage = (productCode: string): string =>
  `https://aws.amazon.com/marketplace/pp?sku=${productCode}`;

/**
 * What AWS refuses an image made from a Marketplace base, found before anything is created: the
 * new image inherits the base's product code, and "images with an AWS Marketplace product code
 * cannot be made public" (EC2 API reference, ModifyImageAttribute).
 */
export function marketplaceProblems(recipe: Recipe, base: BaseImage): { path: string; message: string }[] {
  const codes = base.productCodes ?? [];
  if (codes.length === 0 || !recipe.distribution.launchPermissions.public) return [];
  return [
    {
      path: 'distribution.launchPermissions.public',
      message: `the base image ${base.imageId} is an AWS Marketplace product (${codes.join(', ')}); images made from it carry its product code, and AWS does not let such images be public. Share them with accounts or organizations instead`,
    },
  ];
}

/**
 * RunInstances' OptInRequired, said for a bake: which product, and where to subscribe. Undefined
 * for any other error.
 */
export function optInMessage(error: unknown, base: BaseImage): string | undefined {
  if ((error as { name?: string } | undefined)?.name !== 'OptInRequired') return undefined;
  const codes = base.productCodes ?? [];
  const pages = codes.map(marketplacePage).join(', ');
  return codes.length > 0
    ? `the base image ${base.imageId} is an AWS Marketplace product (${codes.join(', ')}) this account has not subscribed to: accept its terms at ${pages}, then bake again`
    : `EC2 refused to launch the base image ${base.imageId} (OptInRequired): ${(error as Error).message}`;
}
