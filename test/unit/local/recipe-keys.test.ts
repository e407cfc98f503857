import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  KMSClient,
  NotFoundException,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { recipeSchema } from '../../../lib/recipe/schema.js';
import { provisionRecipeKeys } from '../../../local/stack.js';

const kmsMock = mockClient(KMSClient);

const recipe = recipeSchema.parse({
  name: 'web',
  base: { imageId: 'ami-0123456789abcdef0' },
  builder: {
    instanceType: 't3.micro',
    volumes: {
      root: { kmsKeyId: 'alias/root-key' },
      ebs: [
        {
          deviceName: '/dev/sdf',
          sizeGiB: 10,
          kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        },
        { deviceName: '/dev/sdg', sizeGiB: 10, encrypted: false, kmsKeyId: 'alias/unused' },
      ],
    },
  },
  bootstrap: { script: 'echo hi' },
  distribution: {
    regions: ['us-east-1', 'eu-west-1'],
    kmsKeyIds: { 'us-east-1': 'alias/ami-bake', 'eu-west-1': 'alias/ami-bake' },
    launchPermissions: { accounts: ['111122223333'] },
  },
});

beforeEach(() => {
  kmsMock.reset();
  kmsMock.on(DescribeKeyCommand).rejects(new NotFoundException({ message: 'not found', $metadata: {} }));
  kmsMock.on(CreateKeyCommand).resolves({ KeyMetadata: { KeyId: 'new-key', AWSAccountId: '123456789012' } });
});

describe('provisionRecipeKeys', () => {
  it('creates a customer-managed key and alias for each alias the recipe names, in its region', async () => {
    // Act
    const keys = await provisionRecipeKeys(recipe, 'us-east-1');

    // Assess
    expect(keys.map((k) => [k.region, k.alias, k.created])).toEqual([
      ['us-east-1', 'alias/ami-bake', true],
      ['eu-west-1', 'alias/ami-bake', true],
      ['us-east-1', 'alias/root-key', true],
    ]);
    expect(kmsMock).toHaveReceivedCommandTimes(CreateAliasCommand, 3);
    expect(kmsMock).toHaveReceivedCommandWith(CreateAliasCommand, {
      AliasName: 'alias/root-key',
      TargetKeyId: 'new-key',
    });
  });

  it('leaves an existing alias alone, so running it again creates nothing', async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'old-key' } });

    // Act
    const keys = await provisionRecipeKeys(recipe, 'us-east-1');

    // Assess
    expect(keys.every((k) => !k.created && k.keyId === 'old-key')).toBe(true);
    expect(kmsMock).not.toHaveReceivedCommand(CreateKeyCommand);
  });
});
