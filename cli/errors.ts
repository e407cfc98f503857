/**
 * The CLI's exit codes and the two errors that choose them. Anything else thrown by a command is
 * classified by `exitFor`: AWS, credential and network problems exit 3 with one clear line.
 */
export const EXIT = {
  ok: 0,
  bakeFailed: 1,
  badInput: 2,
  aws: 3,
  /** The images exist and were kept, but Bake Succeeded was not published (as `bake --local`). */
  notAnnounced: 4,
} as const;

/** Bad arguments, an invalid or unknown recipe, an unknown bake: the user can fix the command. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly problems: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** No credentials, no region, no stack, access denied: the environment, not the command. */
export class AwsConfigError extends Error {
  override readonly name = 'AwsConfigError';
}

/** Errors of the start path that are the request's fault (lib/errors.ts names). */
const INPUT_ERRORS = new Set([
  'RecipeInvalidError',
  'RecipeNotFoundError',
  'BaseImageNotFoundError',
  'IdempotencyConflictError',
  'CatalogError',
  'BakeNotFoundError',
  'BakeNotRunningError',
]);

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'TokenRefreshRequired',
]);

export interface Classified {
  code: number;
  /** AWS error code or error class name, for --json. */
  error: string;
  message: string;
}

export function exitFor(error: unknown): Classified {
  const e = error instanceof Error ? error : new Error(String(error));
  const name = e.name;
  const message = e.message.split('\n')[0] ?? '';
  if (e instanceof UsageError || INPUT_ERRORS.has(name))
    return { code: EXIT.badInput, error: name, message: e.message };
  if (e instanceof AwsConfigError) return { code: EXIT.aws, error: name, message };
  if (CREDENTIAL_ERRORS.has(name) || /Could not load credentials/.test(message))
    return {
      code: EXIT.aws,
      error: name,
      message: `no usable AWS credentials (${message}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login`,
    };
  if (/^AccessDenied/.test(name) || name === 'UnauthorizedOperation')
    return { code: EXIT.aws, error: name, message: `access denied: ${message}` };
  if (/Region is missing/i.test(message))
    return {
      code: EXIT.aws,
      error: 'RegionMissing',
      message: 'no AWS region: pass --region or set AWS_REGION',
    };
  const network = (e as { code?: string }).code ?? (e.cause as { code?: string } | undefined)?.code;
  if (network && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN)$/.test(network))
    return { code: EXIT.aws, error: network, message: `cannot reach AWS: ${message}` };
  return { code: EXIT.aws, error: name, message: message || name };
}
