import * as z from 'zod';
import { embeddedCredentialMessage, findEmbeddedCredentials } from '../bootstrap/credentials.js';
import { bootstrapSecretSchema, secretsProblems } from '../bootstrap/secrets.js';
import { AWS_REGIONS } from '../regions.js';
import { renderImageName } from './image-name.js';

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
  volumes: volumesSchema.default({ ebs: [], instanceStore: [] }),
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
  }, distributionFieldsParsed);

/** EventBridge Scheduler `rate()`: a whole number of minutes, hours or days; singular only with 1. */
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
/** Day-of-month and day-of-week: exactly one of them must be `?` in an AWS cron expression. */
const CRON_FIELDS = ['minutes', 'hours', 'day-of-month', 'month', 'day-of-week', 'year'] as const;

function scheduleExpressionProblem(expression: string): string | undefined {
  if (expression.startsWith('rate(')) {
    const m = RATE.exec(expression);
    if (!m) return 'rate must be rate(N minutes|hours|days), for example rate(1 day) or rate(12 hours)';
    const n = Number(m[1]);
    const unit = m[2] ?? '';
    if (n < 1) return 'rate must be at least 1';
    if (n === 1 && unit.endsWith('s'))
      return `write rate(1 ${unit.slice(0, -1)}): the unit is singular for 1`;
    if (n > 1 && !unit.endsWith('s')) return `write rate(${n} ${unit}s): the unit is plural above 1`;
    return undefined;
  }
  if (expression.startsWith('cron(')) {
    const inner = /^cron\((.*)\)$/.exec(expression)?.[1]?.trim();
    const fields = inner ? inner.split(/\s+/) : [];
    if (fields.length !== 6)
      return `cron needs exactly 6 fields (${CRON_FIELDS.join(' ')}), got ${fields.length}; for example cron(0 3 ? * SUN *)`;
    const bad = fields.findIndex((f) => !/^[0-9A-Za-z*?,/#-]+$/.test(f));
    if (bad >= 0) return `cron field ${CRON_FIELDS[bad]} has an unexpected character: ${fields[bad]}`;
    if ((fields[2] === '?') === (fields[4] === '?'))
      return 'cron needs ? in exactly one of day-of-month and day-of-week, for example cron(0 3 ? * SUN *)';
    return undefined;
  }
  return 'must be rate(...) or cron(...), for example cron(0 3 ? * SUN *)';
}

/** IANA names as the runtime's ICU knows them; EventBridge Scheduler takes the same names. */
function timezoneProblem(timezone: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    return `unknown time zone ${JSON.stringify(timezone)}: use an IANA name such as UTC or Europe/Berlin`;
  }
  if (resolved !== timezone && resolved.toLowerCase() === timezone.toLowerCase())
    return `write the time zone as ${resolved}`;
  return undefined;
}

const scheduleFieldsParsed = whenParsed('expression', 'timezone');

export const scheduleSchema = z
  .strictObject({
    expression: z
      .string()
      .describe('rate(N minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year).'),
    timezone: z.string().default('UTC').describe('IANA time zone of a cron expression, e.g. Europe/Berlin.'),
    enabled: z.boolean().default(true).describe('false keeps the schedule in the recipe but deploys none.'),
  })
  .superRefine((s, ctx) => {
    const expression = scheduleExpressionProblem(s.expression);
    if (expression) ctx.addIssue({ code: 'custom', path: ['expression'], message: expression });
    const timezone = timezoneProblem(s.timezone);
    if (timezone) ctx.addIssue({ code: 'custom', path: ['timezone'], message: timezone });
  }, scheduleFieldsParsed);

/** Events ami-bake publishes itself: a trigger on them could start bakes from bakes, forever. */
const OWN_EVENT_SOURCE = 'ami-bake';
const OWN_DETAIL_TYPES = ['Bake Requested', 'Bake Started', 'Bake Succeeded', 'Bake Failed', 'Bake Skipped'];

/**
 * Could this EventBridge matcher list match `value`? Every content filter EventBridge has; an
 * operator we do not know is assumed to match (the guard errs on the side of no loop).
 */
function mayMatch(value: string, matchers: readonly unknown[]): boolean {
  return matchers.some((m) => {
    if (typeof m === 'string') return m === value;
    if (m === null || typeof m !== 'object') return false;
    const [op, arg] = Object.entries(m)[0] ?? [];
    switch (op) {
      case 'prefix':
        return stringOp(arg, (a, v) => v.startsWith(a), value);
      case 'suffix':
        return stringOp(arg, (a, v) => v.endsWith(a), value);
      case 'equals-ignore-case':
        return typeof arg === 'string' && arg.toLowerCase() === value.toLowerCase();
      case 'wildcard':
        return (
          typeof arg === 'string' &&
          new RegExp(`^${arg.split('*').map(escapeRegExp).join('.*')}$`).test(value)
        );
      case 'exists':
        return arg !== false;
      case 'anything-but': {
        if (arg !== null && typeof arg === 'object' && !Array.isArray(arg)) return !mayMatch(value, [arg]);
        const excluded = Array.isArray(arg) ? arg : [arg];
        return !excluded.includes(value);
      }
      case 'numeric':
      case 'cidr':
        return false;
      default:
        return true;
    }
  });
}
/** `prefix`/`suffix` take a string or `{ equals-ignore-case: string }`. */
function stringOp(arg: unknown, test: (a: string, v: string) => boolean, value: string): boolean {
  if (typeof arg === 'string') return test(arg, value);
  const ci = (arg as Record<string, unknown> | null)?.['equals-ignore-case'];
  return typeof ci === 'string' && test(ci.toLowerCase(), value.toLowerCase());
}
const mayMatchOwnSource = (matchers: readonly unknown[]) => mayMatch(OWN_EVENT_SOURCE, matchers);
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** EventBridge matches lists of values at the leaves; a bare string or number never matches. */
function patternLeafProblems(value: unknown, path: (string | number)[], ctx: z.RefinementCtx): void {
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === '$or') {
      if (!Array.isArray(v) || v.length < 2 || v.some((b) => b === null || typeof b !== 'object'))
        ctx.addIssue({
          code: 'custom',
          path: [...path, key],
          message: '$or must be a list of at least two patterns',
        });
      else
        v.forEach((b, i) => {
          patternLeafProblems(b, [...path, key, i], ctx);
        });
    } else if (Array.isArray(v)) {
      if (v.length === 0)
        ctx.addIssue({ code: 'custom', path: [...path, key], message: 'an empty list matches nothing' });
    } else if (v !== null && typeof v === 'object') {
      patternLeafProblems(v, [...path, key], ctx);
    } else {
      ctx.addIssue({
        code: 'custom',
        path: [...path, key],
        message: `must be a list of values to match, e.g. [${JSON.stringify(v)}]`,
      });
    }
  }
}

const PUBLIC_PARAMETER_MESSAGE =
  "Parameter Store Change events for AWS's public parameters (/aws/...) are never delivered to your account: " +
  'trigger on the SNS topic AWS announces new images on instead, e.g. sns: arn:aws:sns:us-east-1:137112412989:amazon-linux-2023-ami-updates ' +
  '(docs/triggers.md), or rely on a schedule (a bake whose base image is unchanged skips itself)';

/** A pattern on Parameter Store changes of AWS's public parameters (`/aws/service/...`): it never fires. */
function matchesPublicParameterChange(p: Record<string, unknown>): boolean {
  const source = p.source;
  if (Array.isArray(source) && !source.includes('aws.ssm')) return false;
  const names = (p.detail as { name?: unknown } | undefined)?.name;
  if (!Array.isArray(names)) return false;
  const isPublic = (v: unknown) => typeof v === 'string' && v.startsWith('/aws/');
  return names.some(
    (m) =>
      isPublic(m) ||
      (m !== null && typeof m === 'object' && Object.values(m as Record<string, unknown>).some(isPublic)),
  );
}

export const eventPatternSchema = z
  .record(z.string(), z.json())
  .describe(
    'An EventBridge event pattern, e.g. { source: [aws.ssm], detail-type: [Parameter Store Change] }.',
  )
  .superRefine((p, ctx) => {
    if (!['source', 'detail-type', 'detail'].some((k) => k in p)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a pattern needs at least one of source, detail-type or detail',
      });
      return;
    }
    patternLeafProblems(p, [], ctx);
    if (matchesPublicParameterChange(p)) {
      ctx.addIssue({ code: 'custom', path: ['detail', 'name'], message: PUBLIC_PARAMETER_MESSAGE });
    }
    const ownDetailType =
      Array.isArray(p['detail-type']) &&
      OWN_DETAIL_TYPES.some((d) => mayMatch(d, p['detail-type'] as unknown[]));
    if ((Array.isArray(p.source) && mayMatchOwnSource(p.source)) || (!('source' in p) && ownDetailType)) {
      ctx.addIssue({
        code: 'custom',
        path: ['source'],
        message: `must not match ami-bake's own events (source ${OWN_EVENT_SOURCE}): a bake would trigger bakes in a loop`,
      });
    }
  });

const triggerFieldsParsed = whenParsed('pattern', 'sns', 'bus', 'force');

export const triggerSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/,
        'must be lowercase letters, digits and dashes (at most 64), not starting or ending with a dash',
      ),
    pattern: eventPatternSchema.optional(),
    sns: z
      .string()
      // Lambda cannot subscribe to a FIFO topic: no `.fifo` names.
      .regex(
        /^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/,
        'must be the ARN of a standard SNS topic, e.g. arn:aws:sns:us-east-1:137112412989:amazon-linux-2023-ami-updates',
      )
      .optional()
      .describe('Bake when a message arrives on this SNS topic (any region or account that allows it).'),
    bus: z
      .string()
      .regex(
        /^([\w.\-/]{1,256}|arn:aws[\w-]*:events:[\w-]+:\d{12}:event-bus\/[\w.\-/]+)$/,
        'must be an event bus name or ARN',
      )
      .optional()
      .describe('The event bus a pattern trigger listens on. Default: the default bus.'),
    force: z
      .boolean()
      .default(false)
      .describe('Bake even if images of this recipe and base image already exist.'),
  })
  .superRefine((t, ctx) => {
    if ((t.pattern === undefined) === (t.sns === undefined))
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of pattern (an EventBridge event pattern) or sns (a topic ARN)',
      });
    if (t.sns !== undefined && t.bus !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['bus'],
        message: 'bus is for pattern triggers; an sns trigger subscribes to its topic',
      });
    if (t.force && t.pattern && mayMatchOwnImages(t.pattern))
      ctx.addIssue({
        code: 'custom',
        path: ['force'],
        message:
          'a forced trigger on EC2 AMI State Change events also fires for the images this stack creates: every bake would start another. Drop force (an unchanged recipe and base image skip themselves) or match only images you do not bake',
      });
  }, triggerFieldsParsed);

/** Could this pattern match the EC2 event of an image of ours becoming available? */
function mayMatchOwnImages(p: Record<string, unknown>): boolean {
  const field = (k: string, v: string) => !Array.isArray(p[k]) || mayMatch(v, p[k] as unknown[]);
  if (!('source' in p) && !('detail-type' in p)) return false;
  return field('source', 'aws.ec2') && field('detail-type', 'EC2 AMI State Change');
}

export const triggersSchema = z
  .array(triggerSchema)
  .max(20)
  .superRefine((triggers, ctx) => {
    const seen = new Set<string>();
    triggers.forEach((t, i) => {
      // A trigger that failed its own checks may hold anything, but its name still counts.
      const name = (t as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') return;
      if (seen.has(name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `trigger ${name} is named twice` });
      seen.add(name);
    });
  }, whenParsed());

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
    name: z.string().regex(
      // At most 40: the recipe name starts every Step Functions execution name (80 at most).
      /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/,
      'must be lowercase letters, digits and dashes (at most 40), not starting or ending with a dash',
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

/**
 * A `when` for a check across fields (of the recipe or of one part): it runs unless there is a
 * problem at, above or below a field it reads, so one run reports every problem. A field that
 * failed may hold anything; one that parsed has its defaults. Unknown keys change nothing.
 */
function whenParsed(...fields: readonly string[]): z.core.$ZodSuperRefineParams {
  const related = (a: readonly PropertyKey[], field: string) =>
    a.slice(0, field.split('.').length).every((k, i) => String(k) === field.split('.')[i]);
  return {
    when: (payload) =>
      payload.value !== null &&
      typeof payload.value === 'object' &&
      !payload.issues.some(
        (i) => i.code !== 'unrecognized_keys' && fields.some((f) => related(i.path ?? [], f)),
      ),
  };
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
export type Schedule = z.output<typeof scheduleSchema>;
export type Trigger = z.output<typeof triggerSchema>;
export type EventPattern = z.output<typeof eventPatternSchema>;
