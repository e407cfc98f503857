import { describe, expect, it } from 'vitest';
import { findEmbeddedCredentials } from '../../../lib/bootstrap/credentials.js';

describe('findEmbeddedCredentials: user data is readable by anyone allowed DescribeInstanceAttribute', () => {
  it.each([
    ['an AWS access key id', 'export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE', 'an AWS access key id'],
    ['a temporary AWS access key id', 'key: ASIAY34FZKBOKMUTVV7A', 'an AWS access key id'],
    [
      'an AWS secret access key',
      'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'an AWS secret access key',
    ],
    [
      'an AWS secret access key in an environment variable',
      'export AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
      'an AWS secret access key',
    ],
    ['an RSA private key', '-----BEGIN RSA PRIVATE KEY-----', 'a private key'],
    ['an OpenSSH private key', '-----BEGIN OPENSSH PRIVATE KEY-----', 'a private key'],
    ['a PKCS#8 private key', '  -----BEGIN PRIVATE KEY-----', 'a private key'],
    ['a PGP private key', '-----BEGIN PGP PRIVATE KEY BLOCK-----', 'a private key'],
    [
      'a GitHub token',
      'git clone https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/x/y',
      'a GitHub token',
    ],
    ['a fine-grained GitHub token', `GH=github_pat_11ABCDEFG0${'a'.repeat(72)}`, 'a GitHub token'],
    ['a Slack token', 'SLACK=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', 'a Slack token'],
    [
      'a Slack webhook',
      'curl -X POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
      'a Slack webhook URL',
    ],
    [
      'a literal bearer token',
      'curl -H "Authorization: Bearer 3f9a8c7e6d5b4a39281706f5e4d3c2b1a0" https://x',
      'a bearer token',
    ],
    [
      'a JSON web token',
      'TOKEN=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'a JSON web token',
    ],
  ])('finds %s and names its line', (_name, line, what) => {
    const userData = `#!/bin/bash\nset -e\n${line}\necho done\n`;

    expect(findEmbeddedCredentials(userData)).toEqual([{ line: 3, what }]);
  });

  it('names every line that embeds a credential, counting CRLF and lone CR line ends', () => {
    const userData = 'a\r\nAKIAIOSFODNN7EXAMPLE\rb\n-----BEGIN EC PRIVATE KEY-----\n';

    expect(findEmbeddedCredentials(userData)).toEqual([
      { line: 2, what: 'an AWS access key id' },
      { line: 4, what: 'a private key' },
    ]);
  });

  it.each([
    ['a secret read from a variable', 'export AWS_SECRET_ACCESS_KEY="$FETCHED"'],
    ['a bearer token from a variable', `curl -H "Authorization: Bearer \${TOKEN}" https://x`],
    ['a public key', '-----BEGIN PUBLIC KEY-----'],
    ['a certificate', '-----BEGIN CERTIFICATE-----'],
    [
      'an AMI id and a sha256',
      'ami-0123456789abcdef0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ],
    ['words that merely mention credentials', '# never put aws_secret_access_key or a private key here'],
  ])('accepts %s', (_name, line) => {
    expect(findEmbeddedCredentials(`#!/bin/bash\n${line}\n`)).toEqual([]);
  });
});
