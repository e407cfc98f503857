import * as z from 'zod';
import { embeddedCredentialMessage, findEmbeddedCredentials } from '../bootstrap/credentials.js';
import { bootstrapSecretSchema, secretsProblems } from '../bootstrap/secrets.js';
import { AWS_REGIONS } from '../regions.js';
import { architectureProblems } from './architectures.js';
import { renderImageName } from './image-name.js';
import { launchTestSchema } from './launch-test.js';
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
      // {architecture}: each architecture's bake reads its own parameter (lib/recipe/architectures.ts).
      .refine(
        (p) => /^\/[\w./-]+$/.test(p.replaceAll('{architecture}', 'x')),
        'must be an SSM parameter path such as /aws/service/ami-amazon-linux-latest/... (optionally with {architecture})',
      )
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

const minMax = (unit: string, min: number, max: number, int: boolean) => {
  const n = (int ? z.number().int() : z.number()).min(min).max(max);
  return z
    .strictObject({ min: n, max: n.optional().describe('Default: no upper bound.') })
    .refine((r) => r.max === undefined || r.max >= r.min, {
      path: ['max'],
      message: `must be at least min (${unit})`,
    });
};
// EC2's own pattern for AllowedInstanceTypes/ExcludedInstanceTypes: a type, or one with * wildcards.
const instanceTypePattern = z
  .string()
  .regex(/^[a-z0-9*][a-z0-9.*-]{0,29}$/, 'must be an instance type or a pattern such as m7i.* or c*');

/**
 * Size the builder by what it needs instead of naming a type. ResolveRecipe asks EC2 which types
 * fit (GetInstanceTypesFromInstanceRequirements), keeps those the subnet's zone offers, and orders
 * them cheapest first (functions/resolve-recipe/candidates.ts); LaunchBuilder tries them in order.
 */
export const requirementsSchema = z
  .strictObject({
    vCpus: minMax('vCPUs', 1, 448, true),
    memoryGiB: minMax('GiB', 0.5, 24576, false),
    architecture: z.enum(ARCHITECTURES).optional().describe("Default: the base image's architecture."),
    burstable: z
      .enum(['included', 'excluded', 'required'])
      .default('excluded')
      .describe("T-family types: EC2's default, excluded, leaves them out."),
    instanceGenerations: z
      .array(z.enum(['current', 'previous']))
      .min(1)
      .default(['current'])
      .describe('Previous-generation types are usually dearer for the same size.'),
    allowedInstanceTypes: z.array(instanceTypePattern).min(1).max(400).optional(),
    excludedInstanceTypes: z.array(instanceTypePattern).min(1).max(400).optional(),
    maxCandidates: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(5)
      .describe('How many types LaunchBuilder may try, cheapest first, when EC2 lacks capacity.'),
  })
  .superRefine(
    (r, ctx) => {
      // EC2 refuses a request with both.
      if (r.allowedInstanceTypes && r.excludedInstanceTypes)
        ctx.addIssue({
          code: 'custom',
          path: ['excludedInstanceTypes'],
          message: 'give allowedInstanceTypes or excludedInstanceTypes, not both (EC2 accepts one)',
        });
    },
    whenParsed('allowedInstanceTypes', 'excludedInstanceTypes'),
  );

const instanceTypeName = z
  .string()
  .regex(/^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as t3.micro')
  .refine(
    (t) => !t.startsWith('mac'),
    'macOS builders are not supported: EC2 Mac instances run only on Dedicated Hosts, allocated for at least 24 hours (docs/recipes.md#not-supported)',
  );

/** One type for every architecture the recipe bakes, or one per architecture (`{x86_64: t3.micro, arm64: t4g.micro}`). */
const instanceTypesByArchitecture = z
  .strictObject({ x86_64: instanceTypeName.optional(), arm64: instanceTypeName.optional() })
  .refine((t) => Object.keys(t).length > 0, 'name an instance type for x86_64, arm64 or both');

/**
 * Spot builders: each candidate type is tried on Spot first (a persistent request that stops, as
 * the builder must stop to be imaged), then on-demand unless the recipe forbids it.
 */
export const spotSchema = z
  .strictObject({
    fallbackToOnDemand: z
      .boolean({ error: 'must be true or false' })
      .default(true)
      .describe('When EC2 refuses a Spot launch (no capacity, price too low), launch the type on-demand.'),
    maxPrice: z
      .string()
      .regex(/^\d+(\.\d+)?$/, {
        error: 'must be a price per hour in US dollars, such as "0.05"',
        abort: true,
      })
      .refine((p) => Number(p) > 0, 'must be more than 0')
      .optional()
      .describe("Highest price per hour, in US dollars. Default: the on-demand price (EC2's default)."),
  })
  .describe('Launch the builder on Spot capacity, falling back to on-demand by default.');

export const builderSchema = z
  .strictObject({
    instanceType: z
      .union([instanceTypeName, instanceTypesByArchitecture])
      .optional()
      .describe(
        'Or size the builder with requirements (exactly one). Keyed by architecture when the recipe bakes several.',
      ),
    requirements: requirementsSchema.optional().describe('Or name the type with instanceType (exactly one).'),
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
    instanceProfile: z
      .string()
      .min(1)
      .optional()
      .describe('Name or ARN. Default: the stack builder profile.'),
    volumes: volumesSchema.default(() => volumesSchema.parse({})),
    tags: tags.default({}),
    spot: spotSchema
      .optional()
      .describe('Launch the builder on Spot capacity (docs/recipes.md#builderspot).'),
  })
  .superRefine(
    (b, ctx) => {
      if ((b.instanceType === undefined) === (b.requirements === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [b.instanceType === undefined ? 'instanceType' : 'requirements'],
          message:
            b.instanceType === undefined
              ? 'choose the builder with exactly one of instanceType (a type such as t3.micro) or requirements (vCpus and memoryGiB)'
              : 'choose the builder with exactly one of instanceType or requirements, not both',
        });
      }
    },
    whenParsed('instanceType', 'requirements'),
  );

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
  // Optional, without defaults: a default would change the content hash of every recipe.
  deprecateAfterDays: z
    .number()
    .int()
    .min(1)
    // EC2 refuses a DeprecateAt more than 10 years ahead (2 years for public images: checked below).
    .max(3650)
    .optional()
    .describe(
      'Deprecate every copy this many days after the bake (EnableImageDeprecation, rounded up to the minute).',
    ),
  deregistrationProtection: z
    .boolean()
    .optional()
    .describe(
      'Protect every copy from deregistration (EnableImageDeregistrationProtection, without the 24-hour cooldown).',
    ),
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
  createVolumePermission: z
    .boolean()
    .optional()
    .describe(
      "Also let each listed account create volumes from the image's snapshots, in every region. Accounts only: EC2 has no create-volume permission for organizations or OUs.",
    ),
});

const distributionFieldsParsed = whenParsed('regions', 'kmsKeyIds');

/** Where DistributeImage may write parameters: its role allows this path only (docs/security.md). */
export const SSM_PARAMETER_PREFIX = '/ami-bake/';
export const ARCHITECTURE_TOKEN = '{architecture}';

/** SSM's naming rules (PutParameter), for a name under our prefix with an optional {architecture}. */
const ssmParameterName = z
  .string()
  .max(1011, 'SSM allows 1011 characters in a parameter name')
  .refine(
    (n) => n.startsWith(SSM_PARAMETER_PREFIX),
    `must start with ${SSM_PARAMETER_PREFIX}: the stack may write parameters only under that path`,
  )
  .refine(
    (n) => /^[A-Za-z0-9_./-]+$/.test(n.replaceAll(ARCHITECTURE_TOKEN, 'x')),
    `may contain letters, digits and . - _ / plus ${ARCHITECTURE_TOKEN}`,
  )
  .refine((n) => !n.endsWith('/') && !n.includes('//'), 'must not end with / or contain an empty level')
  .refine((n) => n.split('/').length - 1 <= 15, 'SSM allows at most 15 levels in a parameter name');

/** EC2's launch template name rules. */
const launchTemplateName = z
  .string()
  .min(3)
  .max(128)
  .regex(/^[a-zA-Z0-9().\-/_]+$/, 'must be a launch template name: letters, digits and ( ) . - / _');

const launchTemplateTarget = z.strictObject({
  name: launchTemplateName,
  setDefault: z.boolean().optional().describe('Make the new version the default. Default: false.'),
  architecture: z
    .enum(ARCHITECTURES)
    .optional()
    .describe(
      "Whose image the template gets when the recipe bakes several architectures. Default: the recipe's one.",
    ),
});

/** Publishing checks that need more than one field of distribution. */
function publishingProblems(
  d: {
    launchPermissions: z.output<typeof launchPermissionsSchema>;
    launchTemplates?: z.output<typeof launchTemplateTarget>[];
  },
  ctx: z.RefinementCtx,
): void {
  const p = d.launchPermissions;
  if (p.createVolumePermission && p.accounts.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['launchPermissions', 'createVolumePermission'],
      message:
        'needs accounts: EC2 grants create-volume permission on snapshots to accounts only, not to organizations or OUs',
    });
  }
  const seen = new Set<string>();
  (d.launchTemplates ?? []).forEach((t, i) => {
    const key = `${t.name} ${t.architecture ?? ''}`;
    if (seen.has(key))
      ctx.addIssue({
        code: 'custom',
        path: ['launchTemplates', i, 'name'],
        message: `${t.name} is listed twice`,
      });
    seen.add(key);
  });
}

export const distributionSchema = z
  .strictObject({
    regions: z.array(region).max(32).default([]),
    kmsKeyIds: z.partialRecord(region, kmsKey).default({}).describe('Per-region KMS key for the copy.'),
    launchPermissions: launchPermissionsSchema.default(() => launchPermissionsSchema.parse({})),
    copyTimeoutMinutes: z.number().positive().max(2880).default(120),
    ssmParameter: ssmParameterName
      .optional()
      .describe(
        'After a successful bake, this SSM parameter (data type aws:ec2:image) holds the image id in every region the image is in.',
      ),
    launchTemplates: z
      .array(launchTemplateTarget)
      .max(20)
      .optional()
      .describe('Launch templates that get a new version using the image, in every region the image is in.'),
  })
  .superRefine(publishingProblems, whenParsed('launchPermissions', 'launchTemplates'))
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
    .array(instanceTypeName)
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

/**
 * How many bakes of the recipe to keep. After each successful bake (and daily) the retireImages
 * function retires older images in every region: deregistered, snapshots deleted. Images still in
 * use (launch templates, instances, Auto Scaling, the recipe's SSM parameter) or protected from
 * deregistration are kept and reported (docs/recipes.md#retention).
 */
export const retentionSchema = z.strictObject({
  keep: z
    .number({
      error: (i) => (i.input === undefined ? 'keep is required: how many bakes to keep' : undefined),
    })
    .int('must be a whole number of bakes')
    .min(1, 'must be at least 1: retention never retires the newest bake')
    .max(500)
    .describe('Bakes to keep per architecture, newest first; a bake is its images in every region.'),
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
    architectures: z
      .array(z.enum(ARCHITECTURES))
      .min(1)
      .optional()
      .describe(
        "Bake each, in parallel, in one request (a child execution per architecture). Default: the base image's one.",
      ),
    bootstrap: bootstrapSchema,
    test: launchTestSchema
      .optional()
      .describe(
        'Launch test instances from the new image before it is copied or shared (docs/recipes.md#test).',
      ),
    // Each part's defaults are its own fields' defaults, written once: zod's `.default(value)` would
    // skip parsing the value, so the whole object would be restated here.
    image: imageSchema.default(() => imageSchema.parse({})),
    distribution: distributionSchema.default(() => distributionSchema.parse({})),
    schedule: scheduleSchema.optional().describe('Bake on a schedule (EventBridge Scheduler).'),
    triggers: triggersSchema.optional().describe('Bake when a matching EventBridge event arrives.'),
    // Optional, without a default: a default would change the content hash of every recipe.
    retention: retentionSchema
      .optional()
      .describe('Retire images beyond the newest bakes, in every region (docs/recipes.md#retention).'),
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
  .superRefine(architectureProblems, whenParsed('architectures', 'base', 'builder.instanceType'))
  .superRefine(publishingRecipeProblems, whenParsed('image', 'distribution', 'architectures'))
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

/** Publishing checks across image, distribution and architectures. */
function publishingRecipeProblems(
  r: {
    image: z.output<typeof imageSchema>;
    distribution: z.output<typeof distributionSchema>;
    architectures?: readonly string[];
  },
  ctx: z.RefinementCtx,
): void {
  // EC2: "the upper limit for DeprecateAt is 10 years from now, except for public AMIs, where the
  // upper limit is 2 years from the creation date" (EnableImageDeprecation).
  if (r.distribution.launchPermissions.public && (r.image.deprecateAfterDays ?? 0) > 730) {
    ctx.addIssue({
      code: 'custom',
      path: ['image', 'deprecateAfterDays'],
      message: 'EC2 deprecates public images at most 2 years (730 days) after they are created',
    });
  }
  // Each architecture's image needs its own parameter.
  const parameter = r.distribution.ssmParameter;
  if ((r.architectures ?? []).length > 1 && parameter && !parameter.includes(ARCHITECTURE_TOKEN)) {
    ctx.addIssue({
      code: 'custom',
      path: ['distribution', 'ssmParameter'],
      message: `must contain ${ARCHITECTURE_TOKEN} when the recipe bakes several architectures: one parameter per architecture`,
    });
  }
}

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
