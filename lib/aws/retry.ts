import { StandardRetryStrategy } from '@smithy/core/retry';

/**
 * AWS seconds per local second for the SDK's backoff between attempts, or undefined (deployed).
 * The local runner sets it to the AWS-behaviour profile's clock: the ASL's retries already run on
 * that clock, so a stage throttled until it gives up would otherwise spend nearly all of its time
 * in the SDK's real-time sleeps (1 s base for throttling, doubling, 5 attempts per invocation).
 */
let clock: number | undefined;

export function setRetryClock(awsSecondsPerLocalSecond: number | undefined): void {
  clock = awsSecondsPerLocalSecond;
}

/** The SDK's standard strategy, its own backoff divided by the clock read at each retry. */
class ClockedRetryStrategy extends StandardRetryStrategy {
  constructor(maxAttempts: number) {
    super(maxAttempts);
    const backoff = this.retryBackoffStrategy;
    const sdkDelay = backoff.computeNextBackoffDelay.bind(backoff);
    backoff.computeNextBackoffDelay = (attempt) => sdkDelay(attempt) / (clock ?? 1);
  }
}

/**
 * Retry settings for every client: standard mode with exponential backoff and jitter (covers EC2's
 * RequestLimitExceeded). Deployed, exactly the SDK's; in local runs, the same attempts on the
 * layer's clock. A client made before the clock changes follows the new clock.
 */
export function retryConfig(maxAttempts: number) {
  if (clock === undefined) return { maxAttempts, retryMode: 'standard' as const };
  return {
    maxAttempts,
    retryMode: 'standard' as const,
    retryStrategy: new ClockedRetryStrategy(maxAttempts),
  };
}
