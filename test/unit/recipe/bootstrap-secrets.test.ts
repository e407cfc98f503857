import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Problem, parseRecipe } from '../../../lib/recipe/load.js';

const recipe = (bootstrap: Record<string, unknown>) => ({
  name: 'web',
  base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
  builder: { instanceType: 't3.micro' },
  bootstrap: { script: '#!/bin/bash\necho hi\n', ...bootstrap },
});
const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ami-bake/web/tls-AbCdEf';

async function problems(bootstrap: Record<string, unknown>, dir = process.cwd()): Promise<Problem[]> {
  const result = await parseRecipe(recipe(bootstrap), dir);
  return result.ok ? [] : result.problems;
}

describe('bootstrap.secrets: SSM SecureStrings and Secrets Manager secrets the builder fetches at run time', () => {
  it('accepts a parameter under /ami-bake/ as an environment variable and a secret under ami-bake/ as a file', async () => {
    const secrets = [
      { parameter: '/ami-bake/web/db-password', env: 'DB_PASSWORD' },
      { secretArn, file: '/run/ami-bake/tls.pem' },
    ];
    const result = await parseRecipe(recipe({ secrets }), process.cwd());

    expect(result.ok && result.recipe.bootstrap.secrets).toEqual(secrets);
  });

  it('has no secrets unless given (and no secrets field, so existing recipes keep their hash)', async () => {
    const result = await parseRecipe(recipe({}), process.cwd());

    expect(result.ok && result.recipe.bootstrap).not.toHaveProperty('secrets');
  });

  it.each([
    [
      'a parameter outside /ami-bake/ (the builder role may read nothing else)',
      { parameter: '/prod/db-password', env: 'X' },
      'bootstrap.secrets.0.parameter',
      /\/ami-bake\//,
    ],
    [
      'a secret whose name is not under ami-bake/',
      { secretArn: secretArn.replace('ami-bake/web/', 'prod/'), env: 'X' },
      'bootstrap.secrets.0.secretArn',
      /ami-bake\//,
    ],
    [
      'both a parameter and a secret',
      { parameter: '/ami-bake/a', secretArn, env: 'X' },
      'bootstrap.secrets.0',
      /exactly one of parameter or secretArn/,
    ],
    [
      'neither env nor file',
      { parameter: '/ami-bake/a' },
      'bootstrap.secrets.0',
      /exactly one of env or file/,
    ],
    [
      'a variable the wrapper or the shell needs',
      { parameter: '/ami-bake/a', env: 'LD_PRELOAD' },
      'bootstrap.secrets.0.env',
      /reserved/,
    ],
    [
      'the variable that holds the command the wrapper runs',
      { parameter: '/ami-bake/a', env: 'run' },
      'bootstrap.secrets.0.env',
      /reserved/,
    ],
    [
      'a variable name that is not one',
      { parameter: '/ami-bake/a', env: 'DB-PASSWORD' },
      'bootstrap.secrets.0.env',
      /letters, digits and _/,
    ],
    [
      'a relative file',
      { parameter: '/ami-bake/a', file: 'tls.pem' },
      'bootstrap.secrets.0.file',
      /absolute/,
    ],
    [
      'a file path that climbs',
      { parameter: '/ami-bake/a', file: '/run/../etc/shadow' },
      'bootstrap.secrets.0.file',
      /absolute/,
    ],
  ])('rejects %s', async (_name, secret, path, message) => {
    const found = await problems({ secrets: [secret] });

    expect(found.map((p) => p.path)).toEqual([path]);
    expect(found[0]?.message).toMatch(message);
  });

  it('rejects the same variable twice', async () => {
    const found = await problems({
      secrets: [
        { parameter: '/ami-bake/a', env: 'X' },
        { parameter: '/ami-bake/b', env: 'X' },
      ],
    });

    expect(found).toEqual([{ path: 'bootstrap.secrets.1.env', message: 'X is set by secret 0 already' }]);
  });

  it('rejects secrets with a cloud-config, which runs before any wrapper code could fetch them', async () => {
    const found = await problems({
      script: '#cloud-config\npackages: [nginx]\n',
      secrets: [{ parameter: '/ami-bake/a', env: 'X' }],
    });

    expect(found.map((p) => p.path)).toEqual(['bootstrap.secrets']);
    expect(found[0]?.message).toMatch(/cloud-config/);
  });

  it('takes Windows paths for files on Windows', async () => {
    expect(
      await problems({
        platform: 'windows',
        script: 'Write-Host hi',
        secrets: [{ parameter: '/ami-bake/a', file: 'C:\\ami-bake\\key.pem' }],
      }),
    ).toEqual([]);
    expect(
      (
        await problems({
          platform: 'windows',
          script: 'Write-Host hi',
          secrets: [{ parameter: '/ami-bake/a', file: '/run/key.pem' }],
        })
      )[0]?.path,
    ).toBe('bootstrap.secrets.0.file');
  });
});

describe('user data that embeds a credential is refused, naming the line', () => {
  it('at bootstrap.script for an inline script', async () => {
    const found = await problems({ script: '#!/bin/bash\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n' });

    expect(found).toEqual([
      {
        path: 'bootstrap.script',
        message: expect.stringMatching(
          /^line 2 looks like it embeds an AWS access key id: .*bootstrap\.secrets/,
        ),
      },
    ]);
    expect(found[0]?.message).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });

  it('at bootstrap.file for a user-data file, one problem per line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ami-bake-secrets-'));
    writeFileSync(
      join(dir, 'boot.sh'),
      'echo 1\ncat >k <<EOF\n-----BEGIN OPENSSH PRIVATE KEY-----\nEOF\ncurl -H "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345" x\n',
    );
    const found = await problems({ script: undefined, file: 'boot.sh' }, dir);

    expect(found.map((p) => `${p.path} ${p.message.split(':')[0]}`)).toEqual([
      'bootstrap.file line 3 looks like it embeds a private key',
      'bootstrap.file line 5 looks like it embeds a bearer token',
    ]);
  });
});
