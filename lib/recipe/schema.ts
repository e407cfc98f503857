import { z } from 'zod';
import { AWS_REGIONS } from '../regions.js';
import { renderImageName } from './image-name.js';

/** EC2 tag rules, plus our reserved prefix so a recipe cannot forge lineage tags. */
const tagKey = z
  .string()
  .min(1)
  .max(128)
  .refine((k) => !k.toLowerCase().startsWith('aws:'), 'tag keys starting with "aws:" are reserved by AWS')
  .refine(
    (k) => !k.startsWith('ami-bake:'),
    'tag keys starting with "ami-bake:" are reserved for lineage tags',
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
  });

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
  associatePublicIp: z.boolean().default(false),
  instanceProfile: z.string().min(1).optional().describe('Name or ARN. Default: the stack builder profile.'),
  volumes: volumesSchema.default({ ebs: [], instanceStore: [] }),
  tags: tags.default({}),
});

/** 16 KB is EC2's user-data limit; the wrapper's own size is checked once the script is wrapped. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

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
  })
  .superRefine((b, ctx) => {
    if ((b.script === undefined) === (b.file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give the user data with exactly one of script or file' });
    }
    if (b.platform === 'windows' && b.script?.startsWith('#cloud-config')) {
      ctx.addIssue({
        code: 'custom',
        path: ['script'],
        message: 'cloud-config is for linux; windows takes PowerShell',
      });
    }
  });

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

export const distributionSchema = z
  .strictObject({
    regions: z.array(region).max(32).default([]),
    kmsKeyIds: z.partialRecord(region, kmsKey).default({}).describe('Per-region KMS key for the copy.'),
    launchPermissions: launchPermissionsSchema.default({
      accounts: [],
      organizations: [],
      organizationalUnits: [],
      public: false,
    }),
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
  });

export const recipeSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
        'must be lowercase letters, digits and dashes (at most 63), not starting or ending with a dash',
      ),
    description: z.string().max(1024).optional(),
    base: baseSchema,
    builder: builderSchema,
    bootstrap: bootstrapSchema,
    image: imageSchema.default({
      name: '{recipe}-{date}-{time}-{shortId}',
      tags: {},
      snapshotTags: {},
      timeoutMinutes: 60,
    }),
    distribution: distributionSchema.default({
      regions: [],
      kmsKeyIds: {},
      launchPermissions: { accounts: [], organizations: [], organizationalUnits: [], public: false },
      copyTimeoutMinutes: 120,
    }),
  })
  .superRefine((r, ctx) => {
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
  });

/** A recipe as written (before defaults). */
export type RecipeInput = z.input<typeof recipeSchema>;
/** A validated recipe with defaults applied. `bootstrap.script` may still point at a file. */
export type Recipe = z.output<typeof recipeSchema>;
