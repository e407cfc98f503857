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

/**
 * The base image is an AWS Marketplace product the account has not subscribed to (RunInstances
 * answered OptInRequired). Someone must accept its terms: no retry.
 */
export class MarketplaceSubscriptionRequiredError extends BakeError {
  override name = 'MarketplaceSubscriptionRequiredError';
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

/** A test instance's script exited non-zero, or the instance ended without reporting (TestImage). */
export class TestFailedError extends BakeError {
  override name = 'TestFailedError';
}

/**
 * EC2 refused the builder for capacity with every candidate type (LaunchBuilder's attempts, each
 * with its error). Capacity comes back: LaunchBuilder retries this a few times.
 */
export class BuilderCapacityError extends BakeError {
  override name = 'BuilderCapacityError';
  constructor(
    message: string,
    readonly attempts: { instanceType: string; market: string; error: string }[] = [],
  ) {
    super(message);
  }
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

/** Starting this bake would exceed the running bakes allowed per recipe or per stack. */
export class TooManyBakesError extends BakeError {
  override name = 'TooManyBakesError';
}

/** A *Bake Requested* event from a source or account the stack does not accept. */
export class BakeRequestRefusedError extends BakeError {
  override name = 'BakeRequestRefusedError';
}

/**
 * DistributeImage could not point a parameter or launch template at the new images. What it had
 * changed was restored first (or the message says what could not be), so Cleanup removing the
 * images leaves nothing pointing at them.
 */
export class DistributionFailedError extends BakeError {
  override name = 'DistributionFailedError';
}

/** No execution of the bake state machine has this bake id. */
export class BakeNotFoundError extends BakeError {
  override name = 'BakeNotFoundError';
}

/** The bake cannot be cancelled: it has ended, or it is already failing and cleaning up. */
export class BakeNotRunningError extends BakeError {
  override name = 'BakeNotRunningError';
}

/**
 * How the state machine treats each named error, decided once per class (test/config/asl.test.ts
 * fails for a class missing here, and checks each decision against statemachine/bake.asl.yml):
 * - `retried`: a state retries it by name (it means "not yet", not "failed");
 * - `States.ALL`: deliberately left to the catch-all: the state fails and the bake cleans up;
 * - `outside`: thrown only outside the state machine (start path, API, CLI), never matched by it.
 */
export const ERROR_HANDLING = {
  BakeError: 'States.ALL',
  RecipeInvalidError: 'States.ALL',
  BaseImageNotFoundError: 'States.ALL',
  MarketplaceSubscriptionRequiredError: 'States.ALL',
  StateInputInvalidError: 'States.ALL',
  BootstrapFailedError: 'States.ALL',
  BootstrapNoResultError: 'States.ALL',
  TestFailedError: 'States.ALL',
  BuilderNotStoppedError: 'retried',
  BuilderCapacityError: 'retried',
  ImageFailedError: 'States.ALL',
  DistributionFailedError: 'States.ALL',
  CleanupIncompleteError: 'retried',
  EventNotPublishedError: 'States.ALL',
  // ResolveRecipe throws it too: a catalog without the recipe fails the bake at once.
  RecipeNotFoundError: 'States.ALL',
  EventThrottledError: 'retried',
  ImageNotYetVisibleError: 'retried',
  IdempotencyConflictError: 'outside',
  TooManyBakesError: 'outside',
  BakeRequestRefusedError: 'outside',
  BakeNotFoundError: 'outside',
  BakeNotRunningError: 'outside',
} as const satisfies Record<string, 'retried' | 'States.ALL' | 'outside'>;

/** Every error name of the bake, for the ASL consistency test. */
export const ERROR_NAMES = Object.keys(ERROR_HANDLING) as (keyof typeof ERROR_HANDLING)[];

/** Errors that are the user's input, not the pipeline: the CLI exits 2 on these. */
export const INPUT_ERROR_NAMES: readonly string[] = ['RecipeInvalidError', 'BaseImageNotFoundError'];

/**
 * AWS error codes the state machine retries at state level (the SDK retries them first inside
 * the function). Every Task state retries all of them (statemachine/bake.asl.yml, the
 * `aws-transient` retrier; a test keeps both in step). EC2 answers throttling with
 * RequestLimitExceeded and 5xx with InternalError, Unavailable or InternalFailure; EventBridge
 * with ThrottlingException or InternalException; `TimeoutError` is the SDK's own network timeout,
 * raised after its retries.
 */
export const TRANSIENT_AWS_ERRORS = [
  'RequestLimitExceeded',
  'ThrottlingException',
  'Throttling',
  'ServiceUnavailable',
  'InternalError',
  'Unavailable',
  'InternalFailure',
  'InternalException',
  'TimeoutError',
] as const;

/** Capacity errors of RunInstances: often transient in one AZ, retried by LaunchBuilder only. */
export const LAUNCH_CAPACITY_ERRORS = ['InsufficientInstanceCapacity'] as const;

/**
 * EventBridge accepted PutEvents but throttled the entry (or failed it internally), and it still
 * failed after the in-call retries; the Publish states retry this.
 */
export class EventThrottledError extends BakeError {
  override name = 'EventThrottledError';
}

/**
 * CreateImage said the name is taken (an earlier attempt created the image, its response lost)
 * but DescribeImages cannot see that image yet (eventual consistency); CreateImage retries this
 * and the next attempt adopts the image.
 */
export class ImageNotYetVisibleError extends BakeError {
  override name = 'ImageNotYetVisibleError';
}
