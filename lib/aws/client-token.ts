import { createHash } from 'node:crypto';

/**
 * An EC2 idempotency token (at most 64 ASCII characters) that is the same for every retry of one
 * step of one bake and different across bakes, whatever the bake id's length.
 */
export function clientToken(...parts: string[]): string {
  return `ami-bake-${createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 40)}`;
}
