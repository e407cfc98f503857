import {
  EnableImageDeprecationCommand,
  EnableImageDeregistrationProtectionCommand,
  type LaunchPermission,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import type { Recipe } from '../../lib/recipe/schema.js';
import type { ResolvedRecipe } from '../../lib/state.js';

export interface FinalizeDeps {
  ec2: (region: string) => Ec2Send;
  now: () => Date;
}

export interface FinalizeInput {
  recipe: ResolvedRecipe;
  image: { imageId: string; region: string };
  /** WaitForImage's output: the source image was available, with these snapshots. */
  imageReady: { snapshotIds: string[] };
  /** WaitForCopy's outputs: each copy was available, with its snapshots. */
  copies?: { region: string; imageId: string; snapshotIds: string[] }[];
}

/**
 * Applies the recipe's launch permissions in every region (and the accounts' create-volume
 * permission on the snapshots when asked), then its deprecation time and deregistration
 * protection on every copy. Protection comes last and without a cooldown: a later state's failure
 * sends the bake to Cleanup, which lifts it again before deregistering. No DescribeImages:
 * the waits answered only for available images and carry their snapshot ids (from their own
 * DescribeImages; AWS's AMI State Change event has no snapshot ids). No CreateTags: CreateImage
 * and CopyImage gave every image and snapshot its tags at creation. An image that vanished since
 * makes ModifyImageAttribute fail, and the bake is cleaned up as before.
 */
export async function finalizeImage(input: FinalizeInput, deps: FinalizeDeps) {
  const all = [
    { region: input.image.region, imageId: input.image.imageId, snapshotIds: input.imageReady.snapshotIds },
    ...(input.copies ?? []),
  ];
  const shared = input.recipe.distribution.launchPermissions;
  const permissions = launchPermissions(shared);
  const volumeAccounts = shared.createVolumePermission ? shared.accounts : [];
  const { deprecateAfterDays, deregistrationProtection } = input.recipe.image;
  const deprecateAt =
    deprecateAfterDays === undefined ? undefined : deprecationTime(deps.now(), deprecateAfterDays);
  const entries = await Promise.all(
    all.map(async ({ region, imageId, snapshotIds }) => {
      const ec2 = deps.ec2(region);
      if (permissions.length > 0) {
        await ec2.send(
          new ModifyImageAttributeCommand({
            ImageId: imageId,
            Attribute: 'launchPermission',
            LaunchPermission: { Add: permissions },
          }),
        );
      }
      // EC2 grants create-volume permission to accounts (and the public) only, not organizations or OUs.
      for (const snapshotId of volumeAccounts.length > 0 ? snapshotIds : []) {
        await ec2.send(
          new ModifySnapshotAttributeCommand({
            SnapshotId: snapshotId,
            Attribute: 'createVolumePermission',
            OperationType: 'add',
            UserIds: volumeAccounts,
          }),
        );
      }
      if (deprecateAt)
        await ec2.send(new EnableImageDeprecationCommand({ ImageId: imageId, DeprecateAt: deprecateAt }));
      if (deregistrationProtection) {
        await ec2.send(
          new EnableImageDeregistrationProtectionCommand({ ImageId: imageId, WithCooldown: false }),
        );
      }
      return [region, { imageId, snapshotIds }] as const;
    }),
  );
  return { images: Object.fromEntries(entries), at: deps.now().toISOString() };
}

export function launchPermissions(p: Recipe['distribution']['launchPermissions']): LaunchPermission[] {
  return [
    ...p.accounts.map((UserId) => ({ UserId })),
    ...p.organizations.map((OrganizationArn) => ({ OrganizationArn })),
    ...p.organizationalUnits.map((OrganizationalUnitArn) => ({ OrganizationalUnitArn })),
    ...(p.public ? [{ Group: 'all' as const }] : []),
  ];
}

/**
 * `days` after `from`, rounded up to a whole minute: EC2 rounds DeprecateAt's seconds to the
 * nearest minute, which could otherwise land before the recipe's promise.
 */
export function deprecationTime(from: Date, days: number): Date {
  const minute = 60_000;
  return new Date(Math.ceil((from.getTime() + days * 86_400_000) / minute) * minute);
}
