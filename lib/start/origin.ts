import { BakeRequestRefusedError } from '../errors.js';

/** Where *Bake Requested* events may come from (the stack's bakeRequestSources/Accounts parameters). */
export interface AllowedOrigins {
  /** Empty: any source except ami-bake's own. */
  sources: readonly string[];
  /** Empty: any account (only the local runner, whose emulator delivers events without one). */
  accounts: readonly string[];
}

/**
 * The rule's pattern already filters source and account; this is the second check, in the code,
 * so that a rule edited by hand or a direct invocation cannot widen who starts bakes.
 */
export function checkBakeRequestOrigin(
  event: { source: string; account?: string },
  allowed: AllowedOrigins,
): void {
  if (event.source === 'ami-bake' || (allowed.sources.length > 0 && !allowed.sources.includes(event.source)))
    throw new BakeRequestRefusedError(
      `Bake Requested from source ${JSON.stringify(event.source)} refused: allowed sources are ${allowed.sources.join(', ') || 'any but ami-bake'}`,
    );
  if (allowed.accounts.length > 0 && !allowed.accounts.includes(event.account ?? ''))
    throw new BakeRequestRefusedError(
      `Bake Requested from account ${event.account ?? '(none)'} refused: allowed accounts are ${allowed.accounts.join(', ')}`,
    );
}

/** `a, b,,c` → [a, b, c]: the parameters are comma-separated lists. */
export const listOf = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
