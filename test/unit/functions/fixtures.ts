import { EC2Client, type Tag } from '@aws-sdk/client-ec2';
import { KMSClient } from '@aws-sdk/client-kms';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { RecipeInput } from '../../../lib/recipe/schema.js';
import {
  type BakeContext,
  type BaseImage,
  type ResolvedRecipe,
  resolvedRecipeSchema,
} from '../../../lib/state.js';
import { baseImage } from '../../fixtures/base-image.js';

/** Shared inputs for the core unit tests: a valid recipe, its resolved context and a fixed clock. */

export const BAKE_ID = 'bake-20261126-0001abcd';
export const BUILD_REGION = 'us-east-1';
export const NOW = new Date('2026-11-26T04:47:42.123Z');
export const now = () => NOW;

export function recipe(overrides: Partial<RecipeInput> = {}): ResolvedRecipe {
  return resolvedRecipeSchema.parse({
    name: 'web',
    base: { imageId: 'ami-0123456789abcdef0' },
    builder: { instanceType: 't3.small' },
    bootstrap: { platform: 'linux', script: '#!/bin/bash\necho hello\n' },
    ...overrides,
  } satisfies RecipeInput);
}

/** The shared base image under its full AMI name (the image-name and description tests read it). */
export const base: BaseImage = { ...baseImage, name: 'al2023-ami-2026.11.20-kernel-6.1-x86_64' };

export function context(overrides: Partial<BakeContext> = {}): BakeContext {
  return {
    bakeId: BAKE_ID,
    shortId: '0001abcd',
    recipeName: 'web',
    recipeHash: 'a'.repeat(64),
    contentKey: 'c'.repeat(64),
    buildRegion: BUILD_REGION,
    base,
    imageName: 'web-20261126-044742-0001abcd',
    copyTargets: [{ region: 'eu-west-1' }, { region: 'ap-southeast-2', kmsKeyId: 'alias/ami' }],
    budgets: { bootstrapSeconds: 1800, imageSeconds: 3600, copySeconds: 7200 },
    startedAt: '2026-11-26T04:40:00.000Z',
    at: '2026-11-26T04:40:02.000Z',
    ...overrides,
  };
}

/** The four lineage tags every resource of the bake built from `context()` carries. */
export const LINEAGE_TAGS: Tag[] = [
  { Key: 'ami-bake:bake-id', Value: BAKE_ID },
  { Key: 'ami-bake:recipe', Value: 'web' },
  { Key: 'ami-bake:recipe-hash', Value: 'a'.repeat(64) },
  { Key: 'ami-bake:content-key', Value: 'c'.repeat(64) },
  { Key: 'ami-bake:base-image-id', Value: base.imageId },
  // STACK_NAME is unset in tests: the local default.
  { Key: 'ami-bake:stack', Value: 'ami-bake-local' },
];

/** An AWS service error as the SDK throws it: the error code is the `name`. */
export function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

/** One mocked EC2 client per region, for cores whose dependency is `(region) => client`. */
export function regionalEc2(regions: readonly string[]) {
  const clients = new Map(regions.map((r) => [r, new EC2Client({ region: r })] as const));
  const mocks = new Map([...clients].map(([r, c]) => [r, mockClient(c)] as const));
  const ec2 = (region: string) => {
    const client = clients.get(region);
    if (!client) throw new Error(`test asked for an EC2 client in unexpected region ${region}`);
    return client;
  };
  const mock = (region: string) => {
    const m = mocks.get(region);
    if (!m) throw new Error(`no mock for ${region}`);
    return m;
  };
  return { ec2, mock };
}

/**
 * ResolveRecipe's dependencies for unit tests: clients in the build region (their commands are
 * answered by the test's aws-sdk-client-mock of EC2Client and SSMClient) and KMS in any region.
 */
export function resolveDeps() {
  return {
    ec2: new EC2Client({ region: BUILD_REGION }),
    ssm: new SSMClient({ region: BUILD_REGION }),
    kms: (region: string) => new KMSClient({ region }),
    region: BUILD_REGION,
    now,
  };
}
