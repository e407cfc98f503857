import { describe, expect, it } from 'vitest';
import { checkBakeRequestOrigin } from '../../../lib/start/origin.js';

const event = (source: string, account?: string) => ({
  'detail-type': 'Bake Requested' as const,
  source,
  ...(account ? { account } : {}),
  detail: { recipe: 'web' },
});

describe('Bake Requested is accepted only from the configured sources and accounts', () => {
  const allowed = { sources: ['acme.release'], accounts: ['111122223333'] };

  it('accepts an event from a configured source in a configured account', () => {
    // Act
    const check = () => checkBakeRequestOrigin(event('acme.release', '111122223333'), allowed);

    // Assess
    expect(check).not.toThrow();
  });

  it.each([
    { what: 'another source', e: event('evil.tool', '111122223333'), field: 'source' },
    { what: 'another account', e: event('acme.release', '999988887777'), field: 'account' },
    { what: 'no account', e: event('acme.release'), field: 'account' },
    { what: 'our own source', e: event('ami-bake', '111122223333'), field: 'source' },
  ])('refuses an event from $what, naming the field (BakeRequestRefusedError)', ({ e, field }) => {
    // Act
    const check = () => checkBakeRequestOrigin(e, allowed);

    // Assess
    expect(check).toThrow(
      expect.objectContaining({ name: 'BakeRequestRefusedError', message: expect.stringContaining(field) }),
    );
  });

  it('accepts any source but its own when no sources are configured, still only from the configured accounts', () => {
    // Act
    const ok = () =>
      checkBakeRequestOrigin(event('acme.other', '111122223333'), {
        sources: [],
        accounts: ['111122223333'],
      });
    const own = () =>
      checkBakeRequestOrigin(event('ami-bake', '111122223333'), { sources: [], accounts: ['111122223333'] });

    // Assess
    expect(ok).not.toThrow();
    expect(own).toThrow(expect.objectContaining({ name: 'BakeRequestRefusedError' }));
  });
});
