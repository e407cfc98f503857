import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { wrapUserData } from '../../../lib/bootstrap/wrapper.js';
import { loadRecipeFile, type Problem, parseRecipe } from '../../../lib/recipe/load.js';
import { recipeSchema, USER_DATA_LIMIT_BYTES } from '../../../lib/recipe/schema.js';

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/recipes/${path}`, import.meta.url));
const repoFile = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

async function problemsOf(path: string): Promise<Problem[]> {
  const result = await loadRecipeFile(path);
  if (result.ok) throw new Error(`${path} loaded, but it should have been rejected`);
  return result.problems;
}

async function load(path: string) {
  const result = await loadRecipeFile(path);
  if (!result.ok) throw new Error(`${path} was rejected:\n${JSON.stringify(result.problems, null, 2)}`);
  return result.recipe;
}

/** A valid recipe to vary in tests that do not need a file. */
const minimal = () => ({
  name: 'web',
  base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
  builder: { instanceType: 't3.micro' },
  bootstrap: { script: '#!/bin/bash\necho hi\n' },
});

describe('a recipe with one mistake is rejected with exactly one problem: its path and what is wrong', () => {
  it.each([
    {
      mistake: 'an unknown top-level field',
      file: 'unknown-top-level-field.yml',
      path: '(root)',
      message: 'unknown field imageName',
    },
    {
      mistake: 'an unknown field in the root volume',
      file: 'unknown-field-in-root-volume.yml',
      path: 'builder.volumes.root',
      message: 'unknown field size',
    },
    {
      mistake: 'an unknown field in an EBS volume',
      file: 'unknown-field-in-ebs-volume.yml',
      path: 'builder.volumes.ebs.0',
      message: 'unknown field device',
    },
    {
      mistake: 'an unknown field in launch permissions',
      file: 'unknown-field-in-launch-permissions.yml',
      path: 'distribution.launchPermissions',
      message: 'unknown field groups',
    },
    {
      mistake: 'a missing builder',
      file: 'missing-builder.yml',
      path: 'builder',
      message: 'expected object, received undefined',
    },
    {
      mistake: 'a volume size given as a string',
      file: 'root-size-as-string.yml',
      path: 'builder.volumes.root.sizeGiB',
      message: 'expected number, received string',
    },
    {
      mistake: 'a fractional volume size',
      file: 'root-size-fraction.yml',
      path: 'builder.volumes.root.sizeGiB',
      message: 'expected int',
    },
    {
      mistake: 'a name with capitals and an underscore',
      file: 'bad-name.yml',
      path: 'name',
      message: 'must be lowercase letters, digits and dashes',
    },
    {
      mistake: 'an instance type without a dot',
      file: 'bad-instance-type.yml',
      path: 'builder.instanceType',
      message: 'must be an EC2 instance type',
    },
    {
      mistake: 'an unknown region',
      file: 'unknown-region.yml',
      path: 'distribution.regions.1',
      message: 'unknown AWS region "eu-west-9"',
    },
    {
      mistake: 'a region listed twice (at the second mention)',
      file: 'duplicate-region.yml',
      path: 'distribution.regions.2',
      message: 'region us-east-1 is listed twice',
    },
    {
      mistake: 'a KMS key for a region the image is not copied to',
      file: 'kms-key-for-unlisted-region.yml',
      path: 'distribution.kmsKeyIds.eu-west-1',
      message: 'eu-west-1 is not in regions',
    },
    {
      mistake: 'two base selectors',
      file: 'two-base-selectors.yml',
      path: 'base',
      message: 'choose exactly one base selector, not imageId and ssmParameter',
    },
    {
      mistake: 'no base selector',
      file: 'no-base-selector.yml',
      path: 'base',
      message: 'exactly one of imageId, ssmParameter or filter',
    },
    {
      mistake: 'a base filter without owners',
      file: 'filter-without-owners.yml',
      path: 'base.filter.owners',
      message: 'owners is required',
    },
    {
      mistake: 'a base filter with an empty owners list',
      file: 'filter-with-empty-owners.yml',
      path: 'base.filter.owners',
      message: 'owners is required',
    },
    {
      mistake: 'a 5-digit account id',
      file: 'bad-account-id.yml',
      path: 'distribution.launchPermissions.accounts.1',
      message: 'must be a 12-digit AWS account id',
    },
    {
      mistake: 'an organization ARN without organization/',
      file: 'bad-organization-arn.yml',
      path: 'distribution.launchPermissions.organizations.0',
      message: 'must be an organization ARN',
    },
    {
      mistake: 'public: "true" (a string)',
      file: 'public-as-string.yml',
      path: 'distribution.launchPermissions.public',
      message: 'expected boolean, received string',
    },
    {
      mistake: 'public: yes (a string in YAML 1.2)',
      file: 'public-as-yes.yml',
      path: 'distribution.launchPermissions.public',
      message: 'expected boolean, received string',
    },
    {
      mistake: 'both script and file',
      file: 'script-and-file.yml',
      path: 'bootstrap',
      message: 'exactly one of script or file',
    },
    {
      mistake: 'neither script nor file',
      file: 'no-user-data.yml',
      path: 'bootstrap',
      message: 'exactly one of script or file',
    },
    {
      mistake: 'cloud-config on windows',
      file: 'cloud-config-on-windows.yml',
      path: 'bootstrap.script',
      message: 'cloud-config is for linux',
    },
    {
      mistake: 'a bootstrap budget of zero minutes',
      file: 'zero-bootstrap-timeout.yml',
      path: 'bootstrap.timeoutMinutes',
      message: 'expected number to be >0',
    },
    {
      mistake: 'an unknown image name token',
      file: 'unknown-image-name-token.yml',
      path: 'image.name',
      message: 'unknown token or stray brace; tokens are {recipe}, {date}',
    },
    {
      mistake: 'a bootstrap file that does not exist',
      file: 'missing-bootstrap-file.yml',
      path: 'bootstrap.file',
      message: 'cannot read user data file: ENOENT',
    },
    {
      mistake: 'a duplicate YAML key',
      file: 'duplicate-yaml-key.yml',
      path: '(yaml)',
      message: 'Map keys must be unique',
    },
  ])('rejects $mistake at $path', async ({ file, path, message }) => {
    // Prepare
    const recipeFile = fixture(`invalid/${file}`);

    // Act
    const problems = await problemsOf(recipeFile);

    // Assess
    expect(problems).toEqual([{ path, message: expect.stringContaining(message) }]);
  });

  it.each([
    {
      prefix: 'AWS: (in any case)',
      file: 'aws-tag-prefix.yml',
      path: 'builder.tags.AWS:cloudformation:stack-name',
      reason: 'reserved by AWS',
    },
    {
      prefix: 'ami-bake:',
      file: 'ami-bake-tag-prefix.yml',
      path: 'image.snapshotTags.ami-bake:bake-id',
      reason: 'reserved for lineage tags',
    },
  ])(
    'rejects a tag key starting with $prefix at the path of that tag, saying why',
    async ({ file, path, reason }) => {
      // Prepare
      const recipeFile = fixture(`invalid/${file}`);

      // Act
      const problems = await problemsOf(recipeFile);

      // Assess
      expect(problems).toEqual([{ path, message: expect.stringContaining(reason) }]);
    },
  );

  it('rejects user data that fits in 16 KB alone but not once wrapped, at bootstrap.script', async () => {
    // Prepare
    const script = `#!/bin/bash\n${'#'.repeat(USER_DATA_LIMIT_BYTES - 200)}\n`;
    const recipe = { ...minimal(), bootstrap: { script } };

    // Act
    const result = await parseRecipe(recipe, '/');

    // Assess
    expect(Buffer.byteLength(script)).toBeLessThan(USER_DATA_LIMIT_BYTES);
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          path: 'bootstrap.script',
          message: expect.stringMatching(/once wrapped .* over EC2's limit of 16384/),
        },
      ],
    });
  });

  it('rejects a YAML syntax error at (yaml), with its line', async () => {
    // Prepare: written here, not kept as a fixture, because the formatter cannot parse it.
    const recipeFile = join(mkdtempSync(join(tmpdir(), 'recipe-')), 'broken.yml');
    writeFileSync(recipeFile, 'name: web\ndistribution:\n  regions: [us-east-1, eu-west-1\n');

    // Act
    const problems = await problemsOf(recipeFile);

    // Assess
    expect(problems).toEqual([
      { path: '(yaml)', message: expect.stringMatching(/^Flow sequence .* at line 4/) },
    ]);
  });

  it('reports a recipe file that cannot be read at (file)', async () => {
    // Act
    const problems = await problemsOf(fixture('invalid/no-such-recipe.yml'));

    // Assess
    expect(problems).toEqual([{ path: '(file)', message: expect.stringContaining('ENOENT') }]);
  });
});

describe('a recipe with several mistakes', () => {
  it('reports all three independent problems in one run, in document order', async () => {
    // Act
    const problems = await problemsOf(fixture('invalid/three-problems.yml'));

    // Assess
    expect(problems).toEqual([
      { path: 'name', message: expect.stringContaining('lowercase') },
      { path: 'builder.volumes.root.sizeGiB', message: expect.stringContaining('>=1') },
      { path: 'distribution.regions.1', message: expect.stringContaining('unknown AWS region "eu-west-9"') },
    ]);
  });
});

describe('recipe schema refinements', () => {
  it('refuses public: true while a volume is encrypted (AWS cannot publish encrypted snapshots)', () => {
    // Prepare
    const recipe = { ...minimal(), distribution: { launchPermissions: { public: true } } };

    // Act
    const parsed = recipeSchema.safeParse(recipe);

    // Assess
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['distribution', 'launchPermissions', 'public'],
        message: expect.stringContaining('encrypted snapshots'),
      }),
    ]);
  });

  it('refuses an image name template that can render past 128 characters', () => {
    // Prepare
    const recipe = { ...minimal(), image: { name: '{bakeId}-{bakeId}-{bakeId}-{bakeId}' } };

    // Act
    const parsed = recipeSchema.safeParse(recipe);

    // Assess
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['image', 'name'],
        message: expect.stringContaining('EC2 allows 128'),
      }),
    ]);
  });

  it.each(['web-{foo-bar}', 'web-{date', 'web-}'])(
    'refuses the image name %s (a stray brace or unknown token)',
    (name) => {
      // Prepare
      const recipe = { ...minimal(), image: { name } };

      // Act
      const parsed = recipeSchema.safeParse(recipe);

      // Assess
      expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['image.name']);
    },
  );

  it.each([
    { key: 'aws:cloudformation:stack-name', reason: 'reserved by AWS' },
    { key: 'Aws:Custom', reason: 'reserved by AWS' },
    { key: 'ami-bake:recipe', reason: 'reserved for lineage tags' },
  ])('refuses the tag key $key because it is $reason', ({ key, reason }) => {
    // Prepare
    const recipe = { ...minimal(), image: { tags: { [key]: 'x' } } };

    // Act
    const parsed = recipeSchema.safeParse(recipe);

    // Assess
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['image', 'tags', key],
        issues: [expect.objectContaining({ message: expect.stringContaining(reason) })],
      }),
    ]);
  });

  it('refuses a 41st tag, leaving room under the EC2 limit of 50 for the lineage tags', () => {
    // Prepare
    const tags = Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`tag${i}`, 'x']));

    // Act
    const parsed = recipeSchema.safeParse({ ...minimal(), builder: { instanceType: 't3.micro', tags } });

    // Assess
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['builder', 'tags'],
        message: expect.stringContaining('at most 40 tags'),
      }),
    ]);
  });
});

describe('a valid recipe', () => {
  it('loads recipes/example.yml with its bootstrap file inlined', async () => {
    // Prepare
    const bootstrap = readFileSync(repoFile('recipes/example/bootstrap.sh'), 'utf8');

    // Act
    const recipe = await load(repoFile('recipes/example.yml'));

    // Assess
    expect(recipe.name).toBe('example-web');
    expect(recipe.bootstrap.script).toBe(bootstrap);
    expect(recipe.distribution.regions).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-2']);
  });

  it('gets secure and documented defaults for every field it leaves out', async () => {
    // Act
    const recipe = await load(fixture('valid/minimal.yml'));

    // Assess
    expect(recipe.builder).toEqual({
      instanceType: 't3.micro',
      associatePublicIp: 'auto',
      volumes: { ebs: [], instanceStore: [] },
      tags: {},
    });
    expect(recipe.bootstrap).toEqual({
      platform: 'linux',
      timeoutMinutes: 60,
      script: '#!/bin/bash\ndnf -y install nginx\n',
    });
    expect(recipe.image).toEqual({
      name: '{recipe}-{date}-{time}-{shortId}',
      tags: {},
      snapshotTags: {},
      timeoutMinutes: 60,
    });
    expect(recipe.distribution).toEqual({
      regions: [],
      kmsKeyIds: {},
      launchPermissions: { accounts: [], organizations: [], organizationalUnits: [], public: false },
      copyTimeoutMinutes: 120,
    });
  });

  it('gets encrypted gp3 volumes unless it says otherwise', async () => {
    // Act
    const recipe = await load(fixture('valid/file-bootstrap.yml'));

    // Assess
    expect(recipe.builder.volumes.root).toEqual({ sizeGiB: 16, type: 'gp3', encrypted: true });
    expect(recipe.builder.volumes.ebs).toEqual([
      { deviceName: '/dev/sdf', sizeGiB: 100, type: 'gp3', encrypted: true },
    ]);
  });

  it('reads bootstrap.file relative to the recipe file, not the working directory, and inlines it as bootstrap.script', async () => {
    // Prepare
    const script = readFileSync(fixture('valid/scripts/install-nginx.sh'), 'utf8');

    // Act
    const recipe = await load(fixture('valid/file-bootstrap.yml'));

    // Assess
    expect(recipe.bootstrap).toEqual({ platform: 'linux', timeoutMinutes: 60, script });
  });

  it('reads bootstrap.file relative to the base directory given to parseRecipe', async () => {
    // Prepare
    const recipe = { ...minimal(), bootstrap: { file: 'install-nginx.sh' } };

    // Act
    const result = await parseRecipe(recipe, fixture('valid/scripts'));

    // Assess
    expect(result.ok && result.recipe.bootstrap.script).toContain('dnf -y install nginx');
  });

  it('accepts a fractional bootstrap budget, a Windows PowerShell script and an explicit public: true', async () => {
    // Prepare
    const recipe = {
      ...minimal(),
      bootstrap: { platform: 'windows', script: 'Install-WindowsFeature Web-Server\n', timeoutMinutes: 0.5 },
      builder: { instanceType: 't3.micro', volumes: { root: { encrypted: false } } },
      distribution: { launchPermissions: { public: true } },
    };

    // Act
    const result = await parseRecipe(recipe, '/');

    // Assess
    expect(result.ok && result.recipe.bootstrap.timeoutMinutes).toBe(0.5);
    expect(result.ok && result.recipe.distribution.launchPermissions.public).toBe(true);
  });

  it('accepts user data whose wrapped size is exactly 16 KB, and refuses one byte more', async () => {
    // Prepare
    const wrapped = (script: string) =>
      Buffer.byteLength(wrapUserData({ platform: 'linux', script, bakeId: 'x'.repeat(36) }));
    const room = USER_DATA_LIMIT_BYTES - wrapped('');
    const script = '#'.repeat(room);

    // Act
    const atLimit = await parseRecipe({ ...minimal(), bootstrap: { script } }, '/');
    const overLimit = await parseRecipe({ ...minimal(), bootstrap: { script: `${script}#` } }, '/');

    // Assess
    expect(wrapped(script)).toBe(USER_DATA_LIMIT_BYTES);
    expect(atLimit.ok).toBe(true);
    expect(overLimit.ok).toBe(false);
  });
});
