import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveBase } from '../../../lib/recipe/base-image.js';
import { marketplaceProblems, optInMessage } from '../../../lib/recipe/marketplace.js';
import { recipeSchema } from '../../../lib/recipe/schema.js';
import { baseImage } from '../../fixtures/base-image.js';

const ec2Mock = mockClient(EC2Client);
const deps = {
  ec2: new EC2Client({ region: 'us-east-1' }),
  ssm: new SSMClient({ region: 'us-east-1' }),
  region: 'us-east-1',
};
const marketplaceBase = { ...baseImage, productCodes: ['abc123'] };

const recipe = (launchPermissions: Record<string, unknown>) =>
  recipeSchema.parse({
    name: 'web',
    base: { imageId: 'ami-0123456789abcdef0' },
    builder: { instanceType: 't3.micro', volumes: { root: { encrypted: false } } },
    bootstrap: { script: '#!/bin/bash\ntrue\n' },
    distribution: { launchPermissions },
  });

describe('a Marketplace base image', () => {
  beforeEach(() => ec2Mock.reset());
  afterAll(() => ec2Mock.restore());

  it('keeps its Marketplace product codes, and only those', async () => {
    ec2Mock.on(DescribeImagesCommand).resolves({
      Images: [
        {
          ImageId: 'ami-0aaaaaaaaaaaaaaaa',
          CreationDate: '2026-11-01T00:00:00.000Z',
          Architecture: 'x86_64',
          ProductCodes: [
            { ProductCodeId: 'abc123', ProductCodeType: 'marketplace' },
            { ProductCodeId: 'devpay1', ProductCodeType: 'devpay' },
          ],
        },
      ],
    });
    const base = await resolveBase(
      { filter: { owners: ['aws-marketplace'], name: 'CIS*', productCode: 'abc123' } },
      deps,
    );
    expect(base.productCodes).toEqual(['abc123']);
    expect(ec2Mock.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toMatchObject({
      Owners: ['aws-marketplace'],
      Filters: expect.arrayContaining([{ Name: 'product-code', Values: ['abc123'] }]),
    });
  });

  it('has no productCodes field when the image has none (the content key of other bases is unchanged)', async () => {
    ec2Mock.on(DescribeImagesCommand).resolves({
      Images: [
        { ImageId: 'ami-0aaaaaaaaaaaaaaaa', CreationDate: '2026-11-01T00:00:00.000Z', State: 'available' },
      ],
    });
    const base = await resolveBase({ imageId: 'ami-0aaaaaaaaaaaaaaaa' }, deps);
    expect(base).not.toHaveProperty('productCodes');
  });

  it('cannot make a public image: the problem names the field and the product', () => {
    expect(marketplaceProblems(recipe({ public: true }), marketplaceBase)).toEqual([
      { path: 'distribution.launchPermissions.public', message: expect.stringContaining('abc123') },
    ]);
    expect(marketplaceProblems(recipe({ accounts: ['111122223333'] }), marketplaceBase)).toEqual([]);
    expect(marketplaceProblems(recipe({ public: true }), baseImage)).toEqual([]);
  });

  it("turns EC2's OptInRequired into where to subscribe, and leaves other errors alone", () => {
    const optIn = Object.assign(new Error('In order to use this AWS Marketplace product...'), {
      name: 'OptInRequired',
    });
    expect(optInMessage(optIn, marketplaceBase)).toContain(
      'https://aws.amazon.com/marketplace/pp?sku=abc123',
    );
    expect(optInMessage(optIn, baseImage)).toContain('OptInRequired');
    expect(optInMessage(new Error('boom'), marketplaceBase)).toBeUndefined();
  });
});
