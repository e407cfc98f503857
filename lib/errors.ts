/**
 * The named errors of a bake. Each `name` is a literal because the state machine's
 * `ErrorEquals` and the published *Bake Failed* events match on it (a test keeps both in step).
 */
export class BakeError extends Error {
  override name = 'BakeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The recipe (or a value it resolves to, such as the base image) is unusable. Bad input: no retry. */
export class RecipeInvalidError extends BakeError {
  override name = 'RecipeInvalidError';
  constructor(
    message: string,
    readonly problems: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** No image matched the recipe's base selector. Bad input: no retry. */
export class BaseImageNotFoundError extends BakeError {
  override name = 'BaseImageNotFoundError';
}

/** A state received input that does not match its schema: a bug or a hand-edited execution. */
export class StateInputInvalidError extends BakeError {
  override name = 'StateInputInvalidError';
}

/** The builder's bootstrap reported failure (non-zero exit code or cloud-init error). */
export class BootstrapFailedError extends BakeError {
  override name = 'BootstrapFailedError';
}

/** The builder stopped or vanished without reporting an outcome. */
export class BootstrapNoResultError extends BakeError {
  override name = 'BootstrapNoResultError';
}

/** The builder is not stopped yet; the state machine retries this with backoff. */
export class BuilderNotStoppedError extends BakeError {
  override name = 'BuilderNotStoppedError';
}

/** An image (the source or a regional copy) ended in a failed or deregistered state. */
export class ImageFailedError extends BakeError {
  override name = 'ImageFailedError';
}

/** Cleanup could not remove everything (after trying every region); retried by the state machine. */
export class CleanupIncompleteError extends BakeError {
  override name = 'CleanupIncompleteError';
}

/** PutEvents rejected the event. */
export class EventNotPublishedError extends BakeError {
  override name = 'EventNotPublishedError';
}

/** A request names a recipe the catalog does not have. */
export class RecipeNotFoundError extends BakeError {
  override name = 'RecipeNotFoundError';
}

/** An idempotency key was used before for a different request. */
export class IdempotencyConflictError extends BakeError {
  override name = 'IdempotencyConflictError';
}

/** No execution of the bake state machine has this bake id. */
export class BakeNotFoundError extends BakeError {
  override name = 'BakeNotFoundError';
}

/** The bake cannot be cancelled: it has ended, or it is already failing and cleaning up. */
export class BakeNotRunningError extends BakeError {
  override name = 'BakeNotRunningError';
}

/** Every error name the state machine may match, for the ASL consistency test. */
export const ERROR_NAMES = [
  'BakeError',
  'RecipeInvalidError',
  'BaseImageNotFoundError',
  'StateInputInvalidError',
  'BootstrapFailedError',
  'BootstrapNoResultError',
  'BuilderNotStoppedError',
  'ImageFailedError',
  'CleanupIncompleteError',
  'EventNotPublishedError',
  'RecipeNotFoundError',
  'IdempotencyConflictError',
  'BakeNotFoundError',
  'BakeNotRunningError',
] as const;

/** Errors that are the user's input, not the pipeline: the CLI exits 2 on these. */
export const INPUT_ERROR_NAMES: readonly string[] = ['RecipeInvalidError', 'BaseImageNotFoundError'];

/**
 * AWS error codes the state machine retries at state level (the SDK retries them first inside
 * the function). Listed so the ASL test can tell a typo from a real name.
 */
export const TRANSIENT_AWS_ERRORS = [
  'RequestLimitExceeded',
  'ThrottlingException',
  'Throttling',
  'ServiceUnavailable',
  'InternalError',
  'InsufficientInstanceCapacity',
] as const;
