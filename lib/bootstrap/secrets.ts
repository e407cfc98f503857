import * as z from 'zod';

/**
 * `bootstrap.secrets`: values the builder fetches at run time with its own role, so that they never
 * travel in user data (readable by anyone allowed ec2:DescribeInstanceAttribute, and kept in the
 * execution history). The builder role may read exactly these prefixes (serverless.yml, BuilderRole).
 */
export const SECRET_PARAMETER_PREFIX = '/ami-bake/';
export const SECRET_NAME_PREFIX = 'ami-bake/';

/**
 * Names the wrapper, the shell or the dynamic loader depend on: a secret must not replace them
 * (`run` holds the command the Linux wrapper execs after exporting the secrets).
 */
const RESERVED_ENV =
  /^(PATH|HOME|SHELL|USER|LOGNAME|PWD|IFS|PS4|ENV|BASH_ENV|SHELLOPTS|BASHOPTS|LANG|TZ|LC_\w*|LD_\w*|BASH_\w*|AMI_BAKE_\w*|AB_\w*|run|PSModulePath|ComSpec|SystemRoot|TEMP|TMP)$/i;

export const bootstrapSecretSchema = z
  .strictObject({
    parameter: z
      .string()
      .regex(
        /^\/ami-bake\/[\w.\-/]{1,1000}$/,
        `must be an SSM parameter under ${SECRET_PARAMETER_PREFIX} (the builder role may read nothing else)`,
      )
      .optional()
      .describe(
        `A SecureString (or String) parameter in the build region, under ${SECRET_PARAMETER_PREFIX}.`,
      ),
    secretArn: z
      .string()
      .regex(
        /^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:ami-bake\/[\w/+=.@-]{1,500}$/,
        `must be the ARN of a Secrets Manager secret named ${SECRET_NAME_PREFIX}... (the builder role may read nothing else)`,
      )
      .optional()
      .describe(
        `A Secrets Manager secret whose name starts with ${SECRET_NAME_PREFIX}; its SecretString is used.`,
      ),
    env: z
      .string()
      .regex(
        /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
        'must be a variable name: letters, digits and _, not starting with a digit',
      )
      .refine((n) => !RESERVED_ENV.test(n), 'is reserved: the wrapper, the shell or the loader use it')
      .optional()
      .describe("The bootstrap script's environment variable that holds the value."),
    file: z
      .string()
      .max(255)
      .optional()
      .describe(
        'Absolute path of a file (mode 0600) that holds the value while the script runs; removed afterwards.',
      ),
  })
  .superRefine((s, ctx) => {
    if ((s.parameter === undefined) === (s.secretArn === undefined))
      ctx.addIssue({ code: 'custom', message: 'give exactly one of parameter or secretArn' });
    if ((s.env === undefined) === (s.file === undefined))
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of env or file: how the script sees the value',
      });
  });
export type BootstrapSecret = z.output<typeof bootstrapSecretSchema>;

const LINUX_FILE = /^\/(?!.*(^|\/)\.\.?(\/|$))[\w.\-/]+$/;
const WINDOWS_FILE = /^[A-Za-z]:\\(?!.*(^|\\)\.\.?(\\|$))[\w .\-\\]+$/;

/** Checks that need the platform and the whole list; issues go to `bootstrap.secrets...`. */
export function secretsProblems(
  b: { platform: 'linux' | 'windows'; script?: string; secrets?: readonly BootstrapSecret[] },
  ctx: z.RefinementCtx,
): void {
  const secrets = b.secrets ?? [];
  if (secrets.length > 0 && b.script?.startsWith('#cloud-config'))
    ctx.addIssue({
      code: 'custom',
      path: ['secrets'],
      message:
        'secrets need a shell script: cloud-init runs a cloud-config before any wrapper code could fetch them',
    });
  const seen = new Map<string, number>();
  secrets.forEach((s, i) => {
    if (s.file !== undefined && !(b.platform === 'windows' ? WINDOWS_FILE : LINUX_FILE).test(s.file))
      ctx.addIssue({
        code: 'custom',
        path: ['secrets', i, 'file'],
        message:
          b.platform === 'windows'
            ? 'must be an absolute path such as C:\\ami-bake\\key.pem, without . or .. parts'
            : 'must be an absolute path such as /run/ami-bake/key.pem, without . or .. parts',
      });
    const target = s.env ?? s.file;
    if (target === undefined) return;
    const key = s.env !== undefined ? `env:${s.env}` : `file:${s.file}`;
    const first = seen.get(key);
    if (first !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['secrets', i, s.env !== undefined ? 'env' : 'file'],
        message: `${target} is set by secret ${first} already`,
      });
    else seen.set(key, i);
  });
}
