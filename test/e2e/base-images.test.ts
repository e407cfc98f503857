import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BehaviourLayer } from '../../local/aws-behaviour/index.js';
import { MARKETPLACE_OWNER_ID } from '../../local/aws-behaviour/marketplace.js';
import { localLayer, runLocalBake } from '../../local/runner.js';
import { provisionLocalStack } from '../../local/stack.js';
import { added, inventories, recipe, useEmulator } from './helpers.js';

const REGION = 'us-east-1';
const REGIONS = [REGION, 'eu-west-1'];
/** The emulator's one image with product codes (`product_codes_test`) carries two. */
const PRODUCT = 'code123';
const PRODUCTS = [PRODUCT, 'code456'];
const subscribeAll = (layer: BehaviourLayer) => {
  for (const code of PRODUCTS) layer.subscribeMarketplace(code);
};
/** Canonical publishes Ubuntu from this account; the emulator carries one of its images. */
const CANONICAL = '099720109477';

const marketplaceBase = {
  filter: { owners: ['aws-marketplace'], name: 'product_codes_test', productCode: PRODUCT },
};
const twoRegions = {
  regions: REGIONS,
  kmsKeyIds: { [REGION]: 'alias/ami-bake', 'eu-west-1': 'alias/ami-bake' },
  launchPermissions: { accounts: ['111122223333'] },
};

describe('base images from AWS Marketplace and the community', () => {
  const emulator = useEmulator();
  let layer: BehaviourLayer;
  let client: EC2Client;

  beforeAll(async () => {
    layer = await localLayer(emulator.endpoint());
    layer.setProfile('instant');
    await provisionLocalStack(REGION);
    client = new EC2Client({ region: REGION, endpoint: layer.endpoint, maxAttempts: 1 });
  });
  afterEach(() => layer.unsubscribeMarketplace());

  it('finds a Marketplace image by owner aws-marketplace and product code, as EC2 shows it', async () => {
    const { Images = [] } = await client.send(
      new DescribeImagesCommand({
        Owners: ['aws-marketplace'],
        Filters: [{ Name: 'product-code', Values: [PRODUCT] }],
      }),
    );
    expect(Images.map((i) => [i.Name, i.ImageOwnerAlias, i.OwnerId])).toEqual([
      ['product_codes_test', 'aws-marketplace', MARKETPLACE_OWNER_ID],
    ]);
    expect(Images[0]?.ProductCodes).toContainEqual({
      ProductCodeId: PRODUCT,
      ProductCodeType: 'marketplace',
    });
    // Not Amazon's own: an owners: [amazon] selector does not pick a Marketplace product.
    const amazon = await client.send(
      new DescribeImagesCommand({
        Owners: ['amazon'],
        Filters: [{ Name: 'name', Values: ['product_codes_test'] }],
      }),
    );
    expect(amazon.Images).toEqual([]);
  });

  it('fails at LaunchBuilder naming the product and its page when the account has not subscribed, and leaves nothing', async () => {
    const before = await inventories(REGIONS);
    const result = await runLocalBake({
      recipe: await recipe({ base: marketplaceBase, distribution: twoRegions }),
      region: REGION,
    });
    expect(result.status).toBe('failed');
    expect(result.failure?.stage).toBe('LaunchBuilder');
    expect(result.failure?.error).toBe('MarketplaceSubscriptionRequiredError');
    expect(result.failure?.cause).toContain(PRODUCT);
    expect(result.failure?.cause).toContain(`https://aws.amazon.com/marketplace/pp?sku=${PRODUCT}`);
    const after = await inventories(REGIONS);
    for (const region of REGIONS) {
      expect(added(before[region] as never, after[region] as never)).toEqual({
        liveInstances: [],
        images: [],
        snapshots: [],
        volumes: [],
      });
    }
  });

  it('bakes from a subscribed Marketplace product: every copy carries its product code', async () => {
    subscribeAll(layer);
    const result = await runLocalBake({
      recipe: await recipe({ base: marketplaceBase, distribution: twoRegions }),
      region: REGION,
    });
    expect(result.status, JSON.stringify(result.failure)).toBe('succeeded');
    expect(Object.keys(result.images).sort()).toEqual([...REGIONS].sort());
    for (const [region, image] of Object.entries(result.images)) {
      const regional = new EC2Client({ region, endpoint: layer.endpoint, maxAttempts: 1 });
      const { Images = [] } = await regional.send(new DescribeImagesCommand({ ImageIds: [image.imageId] }));
      expect(Images[0]?.ProductCodes, region).toContainEqual({
        ProductCodeId: PRODUCT,
        ProductCodeType: 'marketplace',
      });
    }
    const succeeded = result.events.find((e) => e['detail-type'] === 'Bake Succeeded');
    expect(succeeded?.detail).toMatchObject({ base: { productCodes: PRODUCTS } });
  });

  it('refuses a public image from a Marketplace base at ResolveRecipe, before anything is created', async () => {
    subscribeAll(layer);
    const before = await inventories(REGIONS);
    const result = await runLocalBake({
      recipe: await recipe({
        base: marketplaceBase,
        builder: { instanceType: 't3.micro', volumes: { root: { encrypted: false } } },
        distribution: { regions: REGIONS, launchPermissions: { public: true } },
      }),
      region: REGION,
    });
    expect(result.status).toBe('failed');
    expect(result.failure?.stage).toBe('ResolveRecipe');
    expect(result.failure?.error).toBe('RecipeInvalidError');
    expect(result.failure?.cause).toContain('distribution.launchPermissions.public');
    expect(result.failure?.cause).toContain(PRODUCT);
    const after = await inventories(REGIONS);
    for (const region of REGIONS) {
      expect(added(before[region] as never, after[region] as never).images).toEqual([]);
    }
  });

  it('bakes from a community image chosen by its publisher account and name', async () => {
    const result = await runLocalBake({
      recipe: await recipe({
        base: {
          filter: { owners: [CANONICAL], name: 'ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*' },
        },
        distribution: twoRegions,
      }),
      region: REGION,
    });
    expect(result.status, JSON.stringify(result.failure)).toBe('succeeded');
    const started = result.events.find((e) => e['detail-type'] === 'Bake Started');
    expect(started?.detail).toMatchObject({ base: { ownerId: CANONICAL, architecture: 'x86_64' } });
    expect(started?.detail.base).not.toHaveProperty('productCodes');
  });

  it('does not take a same-named image from another publisher', async () => {
    const result = await runLocalBake({
      recipe: await recipe({
        base: {
          filter: {
            owners: ['111122223333'],
            name: 'ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*',
          },
        },
      }),
      region: REGION,
    });
    expect(result.status).toBe('failed');
    expect(result.failure?.error).toBe('BaseImageNotFoundError');
    expect(result.failure?.cause).toContain('111122223333');
  });
});
