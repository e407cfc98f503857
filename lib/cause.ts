/**
 * The message of a failure's Cause. Lambda errors reach Step Functions as a JSON Cause
 * ({errorType, errorMessage, trace}): keep the message only. Any other Cause (a States.* error,
 * a cancel's reason) is text already, and is kept as it is.
 */
export function causeText(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}
