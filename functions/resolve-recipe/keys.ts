import { DescribeKeyCommand, type KeyMetadata } from '@aws-sdk/client-kms';
import type { KmsSend } from '../../lib/aws/kms.js';
import type { Problem } from '../../lib/recipe/load.js';
import { type Recipe, SHARED_KEY_MESSAGE } from '../../lib/recipe/schema.js';

/** A KMS key the recipe names, where it is named and the region it must exist in. */
interface NamedKey {
  path: string;
  region: string;
  keyId: string;
}

export const isShared = (recipe: Recipe): boolean => {
  const p = recipe.distribution.launchPermissions;
  return p.accounts.length + p.organizations.length + p.organizationalUnits.length > 0;
};

/** The key distribution.kmsKeyIds names for a region (the build region is a plain string). */
export const regionKey = (recipe: Recipe, region: string): string | undefined =>
  (recipe.distribution.kmsKeyIds as Record<string, string | undefined>)[region];

const encryptedVolumes = (recipe: Recipe) =>
  [
    { path: 'builder.volumes.root', volume: recipe.builder.volumes.root ?? { encrypted: true } },
    ...recipe.builder.volumes.ebs.map((volume, i) => ({ path: `builder.volumes.ebs.${i}`, volume })),
  ].filter(({ volume }) => volume.encrypted);

function namedKeys(recipe: Recipe, buildRegion: string): NamedKey[] {
  const regions = [...new Set([buildRegion, ...recipe.distribution.regions])];
  return [
    ...regions.flatMap((region) => {
      const keyId = regionKey(recipe, region);
      return keyId ? [{ path: `distribution.kmsKeyIds.${region}`, region, keyId }] : [];
    }),
    ...encryptedVolumes(recipe).flatMap(({ path, volume }) =>
      'kmsKeyId' in volume && volume.kmsKeyId
        ? [{ path: `${path}.kmsKeyId`, region: buildRegion, keyId: volume.kmsKeyId }]
        : [],
    ),
  ];
}

/**
 * Checks with KMS every key the recipe names, in the region it must be in: a missing or disabled
 * key would otherwise fail the bake at launch or, worse, at the copy hours later. An image shared
 * with other accounts needs customer-managed keys (docs/recipes.md#sharing-encrypted-images); the
 * schema checked the copy regions, only the build region is checked here, as only now is it known.
 */
export async function checkKeys(
  recipe: Recipe,
  buildRegion: string,
  kms: (region: string) => KmsSend,
): Promise<Problem[]> {
  const shared = isShared(recipe);
  const problems: Problem[] = [];
  const volumes = encryptedVolumes(recipe);
  const buildKey = regionKey(recipe, buildRegion);
  if (shared && !buildKey && volumes.some(({ volume }) => !('kmsKeyId' in volume && volume.kmsKeyId))) {
    problems.push({
      path: `distribution.kmsKeyIds.${buildRegion}`,
      message: `${SHARED_KEY_MESSAGE}; ${buildRegion} is the build region: list it in distribution.regions and name its key in distribution.kmsKeyIds`,
    });
  }
  const described = new Map<string, Promise<KeyMetadata | string>>();
  const describe = ({ region, keyId }: NamedKey) => {
    const id = `${region} ${keyId}`;
    let found = described.get(id);
    if (!found) {
      found = describeKey(kms(region), region, keyId);
      described.set(id, found);
    }
    return found;
  };
  const keys = namedKeys(recipe, buildRegion);
  const answers = await Promise.all(keys.map(describe));
  keys.forEach(({ path, region, keyId }, i) => {
    const answer = answers[i];
    if (typeof answer === 'string') problems.push({ path, message: answer });
    else if (answer?.KeyState !== 'Enabled')
      problems.push({
        path,
        message: `${keyId} in ${region} is ${answer?.KeyState ?? 'in an unknown state'}: EC2 encrypts only with an enabled key`,
      });
    else if (shared && answer.KeyManager !== 'CUSTOMER')
      problems.push({
        path,
        message: `${keyId} in ${region} is an AWS managed key: ${SHARED_KEY_MESSAGE}`,
      });
  });
  return problems;
}

/** The key's metadata, or what is wrong in words. */
async function describeKey(kms: KmsSend, region: string, keyId: string): Promise<KeyMetadata | string> {
  try {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    return KeyMetadata ?? `KMS returned nothing for ${keyId} in ${region}`;
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'NotFoundException') return `${keyId} does not exist in ${region}`;
    if (name === 'AccessDeniedException')
      return `ami-bake may not describe ${keyId} in ${region}: the key policy must allow this account to use it`;
    throw error;
  }
}
