/**
 * Could this EventBridge matcher list match `value`? Every content filter EventBridge has; an
 * operator we do not know is assumed to match: the trigger guards (triggers.ts) err on the side of no loop.
 */
export function mayMatch(value: string, matchers: readonly unknown[]): boolean {
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
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
