import * as z from 'zod';
import { embeddedCredentialMessage, findEmbeddedCredentials } from '../bootstrap/credentials.js';
import { bootstrapSecretSchema, secretsProblems } from '../bootstrap/secrets.js';
import { AWS_REGIONS } from '../regions.js';
import { renderImageName } from './image-name.js';
import { RECIPE_NAME } from './name.js';
import { scheduleSchema } from './schedules.js';
import { triggersSchema } from './triggers.js';
import { whenParsed } from './when-parsed.js';

/** EC2 tag rules, plus our reserved prefix so a recipe cannot forge lineage tags. */
const tagKey = z
  .string()
  .min(1)
  .max(128)
  .refine((k) => !k.toLowerCase().startsWith('aws:'), 'tag keys starting with "aws:" are reserved by AWS')
  // IAM condition keys compare tag keys without regard to case: `AMI-BAKE:…` is our tag too.
  .refine(
    (k) => !k.toLowerCase().startsWith('ami-bake:'),
    'tag keys starting with "ami-bake:" (in any case) are reserved for lineage tags',
  );
const tags = z
  .record(tagKey, z.string().max(256))
  .refine((t) => Object.keys(t).length <= 40, 'at most 40 tags (EC2 allows 50; ami-bake adds its own)');

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const region = z.enum(AWS_REGIONS, { error: (i) => `unknown AWS region ${JSON.stringify(i.input)}` });
const kmsKey = z
  .string()
  .regex(
    /^(arn:aws[\w-]*:kms:[\w-]+:\d{12}:(key|alias)\/[\w/-]+|alias\/[\w/-]+|[0-9a-f-]{36})$/,
    'must be a KMS key id, alias or ARN',
  );

export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

const baseFilter = z.strictObject({
  owners: z
    .array(z.union([z.enum(['amazon', 'self', 'aws-marketplace']), accountId]), {
      error: (i) =>
        i.input === undefined ? 'owners is required: name who may publish the base image' : undefined,
    })
    .min(
      1,
      'owners is required: name who may publish the base image (amazon, self, aws-marketplace or account ids)',
    ),
  name: z.string().min(1).max(128).describe('Image name pattern; * and ? are wildcards.'),
  architecture: z.enum(ARCHITECTURES).optional(),
  productCode: z.string().min(1).optional().describe('Marketplace product code.'),
});

export const baseSchema = z
  .strictObject({
    imageId: z
      .string()
      .regex(/^ami-[0-9a-f]{8,17}$/, 'must look like ami-0123456789abcdef0')
      .optional(),
    ssmParameter: z
      .string()
      .regex(/^\/[\w./-]+$/, 'must be an SSM parameter path such as /aws/service/ami-amazon-linux-latest/...')
      .optional(),
    filter: baseFilter.optional(),
  })
  .superRefine((base, ctx) => {
    const chosen = (['imageId', 'ssmParameter', 'filter'] as const).filter((k) => base[k] !== undefined);
    if (chosen.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          chosen.length === 0
            ? 'choose the base image with exactly one of imageId, ssmParameter or filter'
            : `choose exactly one base selector, not ${chosen.join(' and ')}`,
      });
    }
  }, whenParsed());

const volumeType = z.enum(['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard']);
const ebsVolume = {
  sizeGiB: z.number().int().min(1).max(65536).optional(),
  type: volumeType.default('gp3'),
  iops: z.number().int().min(100).max(256000).optional(),
  throughput: z.number().int().min(125).max(2000).optional().describe('MiB/s, gp3 only.'),
  encrypted: z.boolean().default(true),
  kmsKeyId: kmsKey.optional(),
};
const deviceName = z
  .string()
  .regex(/^\/dev\/(sd[b-z]|xvd[b-z]{1,2}|nvme\d+n\d+)$|^xvd[b-z]$/, 'must be a device name such as /dev/sdb');

export const volumesSchema = z.strictObject({
  root: z.strictObject(ebsVolume).optional(),
  ebs: z
    .array(
      z.strictObject({
        deviceName,
        ...ebsVolume,
        sizeGiB: ebsVolume.sizeGiB.unwrap(),
        snapshotId: z
          .string()
          .regex(/^snap-[0-9a-f]{8,17}$/)
          .optional(),
      }),
    )
    .max(20)
    .default([]),
  instanceStore: z
    .array(
      z.strictObject({
        deviceName,
        virtualName: z.string().regex(/^ephemeral\d{1,2}$/, 'must be ephemeral0..ephemeral23'),
      }),
    )
    .max(24)
    .default([]),
});

export const builderSchema = z.strictObject({
  instanceType: z
    .string()
    .regex(/^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as t3.micro'),
  subnetId: z
    .string()
    .regex(/^subnet-[0-9a-f]{8,17}$/)
    .optional()
    .describe('Default: a subnet of the default VPC.'),
  securityGroupIds: z
    .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/))
    .min(1)
    .max(5)
    .optional()
    .describe('Default: the stack security group, which allows no inbound traffic.'),
  associatePublicIp: z
    .union([z.boolean(), z.literal('auto')], { error: 'must be true, false or auto' })
    .default('auto')
    .describe(
      'auto: a public IP only when the subnet routes 0.0.0.0/0 to an internet gateway (the security group admits no inbound traffic). ResolveRecipe checks that the builder can reach the EC2 API.',
    ),
  instanceProfile: z.string().min(1).optional().describe('Name or ARN. Default: the stack builder profile.'),
  volumes: volumesSchema.default(() => volumesSchema.parse({})),
  tags: tags.default({}),
});

/** 16 KB is EC2's user-data limit; the wrapper's own size is checked once the script is wrapped. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

const bootstrapFieldsParsed = whenParsed('platform', 'script', 'file', 'secrets');

export const bootstrapSchema = z
  .strictObject({
    platform: z.enum(['linux', 'windows']).default('linux'),
    script: z
      .string()
      .min(1)
      .optional()
      .describe('Inline user data: a shell script, #cloud-config, or PowerShell.'),
    file: z.string().min(1).optional().describe('User data file, relative to the recipe file.'),
    timeoutMinutes: z
      .number()
      .positive()
      .max(1440)
      .default(60)
      .describe('Budget for the bootstrap to finish and the builder to power off. Fractions are allowed.'),
    secrets: z
      .array(bootstrapSecretSchema)
      .max(20)
      // Optional, not `[]` by default: a default would change the content hash of every recipe.
      .optional()
      .describe(
        'Fetched on the builder with its role and given to the script; never in user data (docs/security.md#secrets).',
      ),
  })
  .superRefine((b, ctx) => {
    if ((b.script === undefined) === (b.file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give the user data with exactly one of script or file' });
    }
    // A user-data file is checked the same way when the loader reads it (path bootstrap.file).
    for (const found of findEmbeddedCredentials(b.script ?? ''))
      ctx.addIssue({ code: 'custom', path: ['script'], message: embeddedCredentialMessage(found) });
    secretsProblems(b, ctx);
    if (b.platform === 'windows' && b.script?.startsWith('#cloud-config')) {
      ctx.addIssue({
        code: 'custom',
        path: ['script'],
        message: 'cloud-config is for linux; windows takes PowerShell',
      });
    }
  }, bootstrapFieldsParsed);

export const NAME_TOKENS = ['recipe', 'date', 'time', 'timestamp', 'bakeId', 'shortId'] as const;

export const imageSchema = z.strictObject({
  name: z
    .string()
    .min(3)
    .max(128)
    .regex(
      /^[A-Za-z0-9()[\] ./'@_{}-]+$/,
      "may contain letters, digits, spaces and ( ) [ ] . / - ' @ _ plus {tokens}",
    )
    .refine(
      (n) => !/[{}]/.test(n.replace(new RegExp(`\\{(${NAME_TOKENS.join('|')})\\}`, 'g'), '')),
      `unknown token or stray brace; tokens are ${NAME_TOKENS.map((t) => `{${t}}`).join(', ')}`,
    )
    .default('{recipe}-{date}-{time}-{shortId}'),
  description: z.string().max(255).optional(),
  tags: tags.default({}),
  snapshotTags: tags.default({}),
  timeoutMinutes: z
    .number()
    .positive()
    .max(1440)
    .default(60)
    .describe('Budget for the image to become available.'),
});

export const launchPermissionsSchema = z.strictObject({
  accounts: z.array(accountId).max(100).default([]),
  organizations: z
    .array(
      z
        .string()
        .regex(
          /^arn:aws[\w-]*:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/,
          'must be an organization ARN',
        ),
    )
    .default([]),
  organizationalUnits: z
    .array(
      z
        .string()
        .regex(
          /^arn:aws[\w-]*:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/,
          'must be an OU ARN',
        ),
    )
    .default([]),
  public: z.boolean().default(false).describe('Anyone may launch the image. Only with an explicit true.'),
});

const distributionFieldsParsed = whenParsed('regions', 'kmsKeyIds');

export const distributionSchema = z
  .strictObject({
    regions: z.array(region).max(32).default([]),
    kmsKeyIds: z.partialRecord(region, kmsKey).default({}).describe('Per-region KMS key for the copy.'),
    launchPermissions: launchPermissionsSchema.default(() => launchPermissionsSchema.parse({})),
    copyTimeoutMinutes: z.number().positive().max(2880).default(120),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.regions.forEach((r, i) => {
      if (seen.has(r))
        ctx.addIssue({ code: 'custom', path: ['regions', i], message: `region ${r} is listed twice` });
      seen.add(r);
    });
    for (const r of Object.keys(d.kmsKeyIds)) {
      if (!seen.has(r))
        ctx.addIssue({ code: 'custom', path: ['kmsKeyIds', r], message: `${r} is not in regions` });
    }
  }, distributionFieldsParsed);

/**
 * What a request (API, CLI, Bake Requested) may change for one bake of this recipe. Without it a
 * request can only narrow the recipe: a shorter bootstrap budget, fewer of its own regions, a
 * description and extra tags. Everything else is a recipe change, reviewed like one
 * (lib/start/overrides.ts enforces this; docs/recipes.md#overrides).
 */
export const overridePolicySchema = z.strictObject({
  instanceTypes: z
    .array(builderSchema.shape.instanceType)
    .max(20)
    .optional()
    .describe('Instance types a request may choose instead of builder.instanceType.'),
  subnetIds: z
    .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id'))
    .max(20)
    .optional()
    .describe('Subnets a request may choose instead of builder.subnetId.'),
  securityGroupIds: z
    .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id'))
    .max(20)
    .optional()
    .describe('Security groups a request may choose instead of builder.securityGroupIds.'),
  maxBootstrapMinutes: z
    .number()
    .positive()
    .max(1440)
    .optional()
    .describe("The longest bootstrap.timeoutMinutes a request may ask for. Default: the recipe's own."),
  regions: z
    .array(region)
    .max(30)
    .optional()
    .describe('Regions a request may add to distribution.regions (its own regions may always be dropped).'),
  force: z
    .boolean()
    .default(false)
    .describe('Whether a request may bake with force: true even when images with the same content exist.'),
});

export const recipeSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        RECIPE_NAME,
        'must be lowercase letters, digits and dashes (at most 40), not starting or ending with a dash',
      ),
    description: z.string().max(1024).optional(),
    base: baseSchema,
    builder: builderSchema,
    bootstrap: bootstrapSchema,
    // Each part's defaults are its own fields' defaults, written once: zod's `.default(value)` would
    // skip parsing the value, so the whole object would be restated here.
    image: imageSchema.default(() => imageSchema.parse({})),
    distribution: distributionSchema.default(() => distributionSchema.parse({})),
    schedule: scheduleSchema.optional().describe('Bake on a schedule (EventBridge Scheduler).'),
    triggers: triggersSchema.optional().describe('Bake when a matching EventBridge event arrives.'),
    overrides: overridePolicySchema
      .optional()
      .describe(
        'What a request may override for one bake, and within which bounds. Default: only narrowing.',
      ),
  })
  // Whole-recipe checks run whenever the fields they read parsed, even if another field failed, so
  // one run reports every problem (zod skips a refinement after any failed field by default).
  .superRefine(
    (r, ctx) => {
      sharedKeyProblems(r, ctx);
      // AWS refuses to make an image with encrypted snapshots public: say so before the bake, not after.
      const encrypted = [
        r.builder.volumes.root?.encrypted ?? true,
        ...r.builder.volumes.ebs.map((v) => v.encrypted),
      ];
      if (r.distribution.launchPermissions.public && encrypted.some(Boolean)) {
        ctx.addIssue({
          code: 'custom',
          path: ['distribution', 'launchPermissions', 'public'],
          message:
            'AWS cannot make an image with encrypted snapshots public: set encrypted: false on every builder volume (the root is encrypted by default)',
        });
      }
    },
    whenParsed('builder.volumes', 'distribution'),
  )
  .superRefine((r, ctx) => {
    if (typeof r.name !== 'string') return;
    // Worst case: the longest bake id (80 characters). EC2 allows 128 characters in an image name.
    const longest = renderImageName(r.image.name, {
      recipe: r.name,
      bakeId: 'x'.repeat(80),
      at: new Date(0),
    });
    if (longest.length > 128) {
      ctx.addIssue({
        code: 'custom',
        path: ['image', 'name'],
        message: `renders to ${longest.length} characters; EC2 allows 128`,
      });
    }
  }, whenParsed('image.name'));

/** `alias/aws/ebs` and the like: keys AWS manages for a service, which AWS never lets other accounts use. */
export const isAwsManagedKeyAlias = (key: string): boolean => /(^|:)alias\/aws\//.test(key);

export const SHARED_KEY_MESSAGE =
  'images shared with other accounts need a customer-managed KMS key in every region; AWS refuses to share snapshots encrypted with the AWS managed key (aws/ebs)';

/**
 * Sharing an encrypted image with other accounts needs a customer-managed key in every region the
 * image lives in (docs/recipes.md#sharing-encrypted-images). `distribution.kmsKeyIds` names them;
 * the builder's volumes default to the build region's. The build region is the stack's, unknown
 * here: ResolveRecipe checks it, and checks every key with KMS.
 */
function sharedKeyProblems(
  r: {
    builder: { volumes: z.output<typeof volumesSchema> };
    distribution: z.output<typeof distributionSchema>;
  },
  ctx: z.RefinementCtx,
): void {
  const { accounts, organizations, organizationalUnits } = r.distribution.launchPermissions;
  if (accounts.length + organizations.length + organizationalUnits.length === 0) return;
  const volumes: { path: (string | number)[]; volume: { encrypted: boolean; kmsKeyId?: string } }[] = [
    { path: ['builder', 'volumes', 'root'], volume: r.builder.volumes.root ?? { encrypted: true } },
    ...r.builder.volumes.ebs.map((volume, i) => ({ path: ['builder', 'volumes', 'ebs', i], volume })),
  ].filter(({ volume }) => volume.encrypted);
  if (volumes.length === 0) return;
  const managed =
    'is an AWS managed key, which AWS refuses to share with other accounts: name a customer-managed key';
  for (const { path, volume } of volumes) {
    if (volume.kmsKeyId && isAwsManagedKeyAlias(volume.kmsKeyId))
      ctx.addIssue({ code: 'custom', path: [...path, 'kmsKeyId'], message: managed });
  }
  for (const region of r.distribution.regions) {
    const key = r.distribution.kmsKeyIds[region];
    if (key === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['distribution', 'kmsKeyIds', region],
        message: SHARED_KEY_MESSAGE,
      });
    else if (isAwsManagedKeyAlias(key))
      ctx.addIssue({ code: 'custom', path: ['distribution', 'kmsKeyIds', region], message: managed });
  }
  if (r.distribution.regions.length === 0 && volumes.some(({ volume }) => !volume.kmsKeyId)) {
    ctx.addIssue({
      code: 'custom',
      path: ['distribution', 'regions'],
      message:
        "images shared with other accounts need a customer-managed KMS key in the build region: list the build region here and name its key in distribution.kmsKeyIds (the builder's volumes use it), or give every encrypted builder volume a kmsKeyId",
    });
  }
}

/** A recipe as written (before defaults). */
export type RecipeInput = z.input<typeof recipeSchema>;
/** A validated recipe with defaults applied. `bootstrap.script` may still point at a file. */
export type Recipe = z.output<typeof recipeSchema>;
