import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LINUX_REPORTER } from '../../../lib/bootstrap/linux.js';
import {
  LOG_TAIL_TAG_KEY,
  parseConsoleResult,
  RESULT_TAG_KEY,
  sanitizeLogTail,
  wrapUserData,
} from '../../../lib/bootstrap/wrapper.js';
import { cleanupRuns, runScript, STUB, secretValue, shellPartOf, ssmParameter } from './harness.js';
import { expectedSignature, parseAuthorization } from './sigv4.js';

const bakeId = 'bake-20240601-abcdef';
const shell = (script: string) => wrapUserData({ platform: 'linux', script, bakeId });
const cloudConfig = (script: string) => shellPartOf(wrapUserData({ platform: 'linux', script, bakeId }));

afterAll(cleanupRuns);

describe('Linux shell wrapper, run under bash with IMDS, EC2, cloud-init and poweroff stubbed', () => {
  it('tags the instance with success;exit=0, writes the result to the console and powers off when the script succeeds', () => {
    const run = runScript(shell('#!/bin/bash\necho "installing nginx"\n'));

    expect(run.result.status).toBe(0);
    expect(run.result.stdout).toContain('installing nginx');
    expect(run.tags()).toEqual({
      [RESULT_TAG_KEY]: 'success;exit=0',
      [LOG_TAIL_TAG_KEY]: 'installing nginx',
    });
    expect(run.console()).toContain('AMI-BAKE-LOG installing nginx\n');
    expect(run.console()).toMatch(/AMI-BAKE-RESULT \{"outcome":"success","exitCode":0\}\n$/);
    expect(run.calls()).toEqual([
      'cloud-init status --wait',
      'cloud-init clean --logs',
      'sync ',
      'systemctl poweroff',
    ]);
  });

  it('tags the instance with failure;exit=3 and powers off when the script exits 3', () => {
    const run = runScript(shell('echo step one\necho "step two failed" >&2\nexit 3\n'));

    expect(run.result.status).toBe(3);
    expect(run.tags()[RESULT_TAG_KEY]).toBe('failure;exit=3');
    expect(run.tags()[LOG_TAIL_TAG_KEY]).toMatch(/step two failed$/);
    expect(parseConsoleResult(run.console())).toEqual({
      outcome: 'failure',
      exitCode: 3,
      logTail: 'step one\nstep two failed',
    });
    expect(run.calls()).toContain('systemctl poweroff');
  });

  it('logs the script output to /var/log/ami-bake/bootstrap.log, readable by root only (0600), and records the exit code', () => {
    const run = runScript(shell('echo out\necho err >&2\nexit 7'));

    expect(run.fileAtCloudInit('var/log/ami-bake/bootstrap.log')).toEqual({
      text: 'out\nerr\n',
      mode: 0o600,
    });
    expect(run.fileAtCloudInit('var/log/ami-bake/reporter.log')?.mode).toBe(0o600);
    expect(run.fileAtCloudInit('var/lib/ami-bake/user-exit-code')?.text).toBe('7\n');
  });

  it.each([
    ['succeeds', 'echo done'],
    ['fails', 'echo broken >&2\nexit 5'],
  ])(
    'leaves nothing of the bootstrap in the image when the script %s: script, logs and reporter are removed before power-off',
    (_name, userScript) => {
      const run = runScript(shell(userScript));

      expect(run.fileAtCloudInit('var/lib/ami-bake/user-script')).toBeUndefined();
      expect(run.filesLeft()).toEqual([]);
      expect(run.calls().slice(-3)).toEqual(['cloud-init clean --logs', 'sync ', 'systemctl poweroff']);
    },
  );

  it('writes the user script byte for byte, however it is quoted or ends', () => {
    const script = [
      '#!/bin/bash',
      'x="$HOME" y=`echo tick` z=\'single\' w=\\$literal',
      "cat <<'EOF'",
      'EOF',
      'AMI_BAKE_REPORTER',
      'AMI_BAKE_USER_SCRIPT_0000000000000000',
      'echo "$x $y $z $w"',
      '',
      'cp "$0" "$AMI_BAKE_ROOT/copy-of-script"',
      'exit 0  ',
    ].join('\n');
    const run = runScript(shell(script));

    expect(run.file('copy-of-script')).toBe(script);
    expect(run.tags()[RESULT_TAG_KEY]).toBe('success;exit=0');
  });

  it('runs the script with the interpreter of its shebang, and with bash when it has none', () => {
    const awk = runScript(shell('#!/usr/bin/awk -f\nBEGIN { print "awk ran"; exit 4 }\n'));
    const bash = runScript(shell(`echo "bash \${BASH_VERSION:+yes}"\n`));

    expect(awk.tags()).toEqual({ [RESULT_TAG_KEY]: 'failure;exit=4', [LOG_TAIL_TAG_KEY]: 'awk ran' });
    expect(bash.tags()[LOG_TAIL_TAG_KEY]).toBe('bash yes');
  });

  it('reports success when cloud-init finished with recoverable errors (status rc 2)', () => {
    const run = runScript(shell('true'), { env: { STUB_CLOUD_INIT_RC: '2' } });

    expect(run.tags()[RESULT_TAG_KEY]).toBe('success;exit=0');
  });

  it("reports failure with cloud-init's exit code when cloud-init errored after a clean script", () => {
    const run = runScript(shell('true'), { env: { STUB_CLOUD_INIT_RC: '1' } });

    expect(run.tags()[RESULT_TAG_KEY]).toBe('failure;exit=1');
  });

  it('signs CreateTags with SigV4 using the instance-profile credentials read from IMDSv2', () => {
    const run = runScript(shell('echo ok'));
    const [token, ...metadata] = run.curlCalls().filter((c) => c.url.includes('/latest/'));
    const [createTags] = run.ec2Calls();

    expect(token).toMatchObject({ method: 'PUT', url: 'http://169.254.169.254/latest/api/token' });
    expect(metadata.map((c) => c.url.replace('http://169.254.169.254/latest/meta-data/', ''))).toEqual([
      'instance-id',
      'placement/region',
      'services/domain',
      'iam/security-credentials/',
      `iam/security-credentials/${STUB.role}`,
    ]);
    for (const call of metadata) expect(call.headers['x-aws-ec2-metadata-token']).toBe(STUB.imdsToken);

    expect(createTags).toBeDefined();
    if (!createTags) return;
    expect(createTags.url).toBe(`https://ec2.${STUB.region}.amazonaws.com/`);
    expect(createTags.method).toBe('POST');
    expect(createTags.headers['x-amz-security-token']).toBe(STUB.sessionToken);
    const auth = createTags.headers.authorization ?? '';
    expect(auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/ec2\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(parseAuthorization(auth)?.signature).toBe(expectedSignature(createTags, STUB.secretAccessKey));
    const form = new URLSearchParams(createTags.stdin);
    expect(Object.fromEntries(form)).toMatchObject({
      Action: 'CreateTags',
      Version: '2016-11-15',
      'ResourceId.1': STUB.instanceId,
    });
  });

  it('tags the log tail exactly as sanitizeLogTail would: colour codes, tabs, CRs, UTF-8 and URL-special characters', () => {
    const output = 'first\n\x1b[31mred\x1b[0m\ttab\r\ncafé ünïcode\x07 a&b=c+d;e%f/g?h#i "q" \'s\' ~`$\n\n';
    const run = runScript(shell(`printf '%s' '${output.replaceAll("'", "'\\''")}'`));

    expect(run.fileAtCloudInit('var/log/ami-bake/bootstrap.log')?.text).toBe(output);
    expect(run.tags()[LOG_TAIL_TAG_KEY]).toBe(sanitizeLogTail(output));
    expect(run.console()).toContain('AMI-BAKE-LOG red tab\n');
  });

  it('keeps only the last 250 characters of the log in the tag and the last 20 lines on the console', () => {
    const run = runScript(shell('for i in $(seq 1 100); do echo "line $i of a rather long log"; done'));

    const tail = run.tags()[LOG_TAIL_TAG_KEY] ?? '';
    expect(tail).toHaveLength(250);
    expect(tail).toMatch(/line 100 of a rather long log$/);
    const logLines = run
      .console()
      .split('\n')
      .filter((l) => l.startsWith('AMI-BAKE-LOG '));
    expect(logLines).toHaveLength(20);
    expect(logLines[0]).toBe('AMI-BAKE-LOG line 81 of a rather long log');
  });

  it('still writes the console result and powers off when EC2 refuses the tags (403), after 5 attempts', () => {
    const run = runScript(shell('exit 0'), { env: { STUB_EC2_STATUS: '403' } });

    expect(run.ec2Calls()).toHaveLength(5);
    expect(run.calls().filter((c) => c.startsWith('sleep'))).toEqual([
      'sleep 5',
      'sleep 10',
      'sleep 15',
      'sleep 20',
    ]);
    expect(parseConsoleResult(run.console())).toMatchObject({ outcome: 'success', exitCode: 0 });
    expect(run.calls().at(-1)).toBe('systemctl poweroff');
    // The reporter's own log is deleted with the rest: the console keeps what it said.
    expect(run.console()).toMatch(/^ami-bake-reporter: .*CreateTags: HTTP 403/m);
    expect(run.filesLeft()).toEqual([]);
  });

  it('still powers off when the instance has no instance profile', () => {
    const run = runScript(shell('exit 0'), { env: { STUB_NO_ROLE: '1' } });

    expect(run.ec2Calls()).toHaveLength(0);
    expect(run.calls().at(-1)).toBe('systemctl poweroff');
  });

  it('falls back to shutdown -h now when systemctl poweroff fails', () => {
    const run = runScript(shell('exit 0'), { env: { STUB_SYSTEMCTL_RC: '1' } });

    expect(run.calls().slice(-2)).toEqual(['systemctl poweroff', 'shutdown -h now']);
  });

  it('writes to ttyS0 rather than /dev/console when ttyS0 is writable', () => {
    const run = runScript(shell('exit 0'), { files: { 'dev/ttyS0': '' } });

    expect(run.file('dev/ttyS0')).toContain('AMI-BAKE-RESULT {"outcome":"success","exitCode":0}');
    expect(run.console()).toBe('');
  });

  it('uses AMI_BAKE_IMDS_ENDPOINT and AMI_BAKE_EC2_ENDPOINT when set (tests and emulators only)', () => {
    const run = runScript(shell('exit 0'), {
      env: { AMI_BAKE_IMDS_ENDPOINT: 'http://imds.test:8080', AMI_BAKE_EC2_ENDPOINT: 'http://ec2.test:4566' },
    });

    const urls = run.curlCalls().map((c) => c.url);
    expect(urls[0]).toBe('http://imds.test:8080/latest/api/token');
    expect(urls.at(-1)).toBe('http://ec2.test:4566/');
    const [createTags] = run.ec2Calls();
    if (createTags)
      expect(parseAuthorization(createTags.headers.authorization ?? '')?.signature).toBe(
        expectedSignature(createTags, STUB.secretAccessKey),
      );
  });

  it('returns before the reporter finishes: by default the reporter is detached from cloud-init', async () => {
    const started = Date.now();
    const run = runScript(shell('echo quick'), { foreground: false, env: { STUB_CLOUD_INIT_DELAY: '2' } });
    const returnedAfter = Date.now() - started;

    expect(run.result.status).toBe(0);
    expect(returnedAfter).toBeLessThan(2000);
    expect(run.calls()).not.toContain('systemctl poweroff');
    await expect.poll(() => run.calls(), { timeout: 10_000, interval: 100 }).toContain('systemctl poweroff');
    expect(run.tags()[RESULT_TAG_KEY]).toBe('success;exit=0');
  });
});

describe('bootstrap.secrets: fetched on the builder with its role, never left anywhere', () => {
  const dbPassword = 'pa$$w0rd "quoted" \\back`tick`';
  const pem =
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nbm90IGEgcmVhbCBrZXkgYXQgYWxs\n-----END PRIVATE KEY-----\n';
  const secretArn = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:ami-bake/web/tls-AbCdEf';
  const secrets = [
    { parameter: '/ami-bake/web/db-password', env: 'DB_PASSWORD' },
    { secretArn, file: '/run/ami-bake/tls.pem' },
  ];
  const aws = {
    '/ami-bake/web/db-password': ssmParameter('/ami-bake/web/db-password', dbPassword),
    [secretArn]: secretValue(secretArn, pem),
  };
  const withSecrets = (script: string) => wrapUserData({ platform: 'linux', script, bakeId, secrets });
  // Where the test's script copies what it saw: outside the fake root, so not "left on disk".
  const seen = [
    'printf %s "$DB_PASSWORD" >"$AMI_BAKE_ROOT/../seen-env"',
    'cp "$AMI_BAKE_ROOT/run/ami-bake/tls.pem" "$AMI_BAKE_ROOT/../seen-file"',
    'stat -c %a "$AMI_BAKE_ROOT/run/ami-bake/tls.pem" >"$AMI_BAKE_ROOT/../seen-mode"',
  ].join('\n');
  const seenFile = (run: { dir: string }, name: string) => readFileSync(join(run.dir, name), 'utf8');

  it('gives the script an SSM SecureString as a variable and a Secrets Manager secret as a 0600 file', () => {
    const run = runScript(withSecrets(seen), { aws });

    expect(run.tags()[RESULT_TAG_KEY]).toBe('success;exit=0');
    expect(seenFile(run, 'seen-env')).toBe(dbPassword);
    expect(seenFile(run, 'seen-file')).toBe(pem);
    expect(seenFile(run, 'seen-mode')).toBe('600\n');
  });

  it("reads them with SigV4-signed GetParameter (WithDecryption, build region) and GetSecretValue (the secret's region)", () => {
    const run = runScript(withSecrets('true'), { aws });
    const [ssm, secretsManager] = run.secretCalls();

    expect(ssm?.url).toBe(`https://ssm.${STUB.region}.amazonaws.com/`);
    expect(ssm?.headers['x-amz-target']).toBe('AmazonSSM.GetParameter');
    expect(ssm?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(JSON.parse(ssm?.stdin ?? '')).toEqual({ Name: '/ami-bake/web/db-password', WithDecryption: true });
    expect(secretsManager?.url).toBe('https://secretsmanager.us-east-2.amazonaws.com/');
    expect(secretsManager?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(secretsManager?.stdin ?? '')).toEqual({ SecretId: secretArn });
    for (const call of [ssm, secretsManager]) {
      if (!call) throw new Error('missing call');
      const auth = parseAuthorization(call.headers.authorization ?? '');
      expect(auth?.signedHeaders).toContain('x-amz-target');
      expect(auth?.signature).toBe(expectedSignature(call, STUB.secretAccessKey));
    }
    expect(secretsManager && parseAuthorization(secretsManager.headers.authorization ?? '')).toMatchObject({
      region: 'us-east-2',
      service: 'secretsmanager',
    });
  });

  it("never lets a value reach the tag, the console, cloud-init's output or a file left on disk, even when the script prints it", () => {
    const run = runScript(
      withSecrets(
        `${seen}\necho "password is $DB_PASSWORD"\ncat "$AMI_BAKE_ROOT/run/ami-bake/tls.pem"\nexit 3`,
      ),
      { aws },
    );
    const visible = [JSON.stringify(run.tags()), run.console(), run.result.stdout, run.result.stderr];
    const log = run.fileAtCloudInit('var/log/ami-bake/bootstrap.log')?.text ?? '';

    expect(seenFile(run, 'seen-env')).toBe(dbPassword); // the script did have them
    for (const value of [dbPassword, ...pem.split('\n').filter(Boolean)]) {
      for (const text of [...visible, log]) expect(text).not.toContain(value);
    }
    expect(run.tags()[LOG_TAIL_TAG_KEY]).toContain('password is [redacted]');
    expect(run.console()).toContain('AMI-BAKE-LOG [redacted]\n');
    expect(run.tags()[RESULT_TAG_KEY]).toBe('failure;exit=3');
    expect(run.filesLeft()).toEqual([]);
  });

  it('decodes JSON escapes in the answer exactly', () => {
    const tricky = 'é \\ " / \n\ttab $(touch /tmp/x) ✓';
    const escaped = ssmParameter('/ami-bake/web/db-password', tricky)
      .replace('é', '\\u00e9')
      .replace(' / ', ' \\/ ');
    const run = runScript(withSecrets(seen.split('\n')[0] ?? ''), {
      aws: { ...aws, '/ami-bake/web/db-password': escaped },
    });

    expect(escaped).toContain('\\u00e9');
    expect(seenFile(run, 'seen-env')).toBe(tricky);
  });

  it('fails the bootstrap without running the script when a secret cannot be fetched, naming it', () => {
    const run = runScript(withSecrets('touch "$AMI_BAKE_ROOT/../script-ran"'), {
      aws: { [secretArn]: aws[secretArn] },
    });

    expect(run.tags()[RESULT_TAG_KEY]).toBe('failure;exit=1');
    expect(run.tags()[LOG_TAIL_TAG_KEY]).toMatch(/\/ami-bake\/web\/db-password: HTTP 400.*ParameterNotFound/);
    expect(existsSync(join(run.dir, 'script-ran'))).toBe(false);
    expect(run.filesLeft()).toEqual([]);
  });

  it('puts names in the user data, never values', () => {
    const userData = withSecrets('true');

    expect(userData).toContain('/ami-bake/web/db-password');
    expect(userData).toContain(secretArn);
    expect(userData).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
  });
});

describe('Linux cloud-config wrapper: the reporter part, run under bash', () => {
  const files = {
    'var/log/cloud-init-output.log': 'Cloud-init v. 24.1 running modules:final\npackages installed\n',
  };

  it.each([
    { rc: '0', tag: 'success;exit=0' },
    { rc: '2', tag: 'success;exit=2' },
    { rc: '1', tag: 'failure;exit=1' },
  ])('tags $tag when cloud-init status --wait exits $rc', ({ rc, tag }) => {
    const run = runScript(cloudConfig('#cloud-config\npackages: [nginx]\n'), {
      files,
      env: { STUB_CLOUD_INIT_RC: rc },
    });

    expect(run.result.status).toBe(0);
    expect(run.tags()).toEqual({
      [RESULT_TAG_KEY]: tag,
      [LOG_TAIL_TAG_KEY]: 'Cloud-init v. 24.1 running modules:final packages installed',
    });
    expect(run.console()).toContain('AMI-BAKE-LOG packages installed\n');
    expect(run.calls().slice(-3)).toEqual(['cloud-init clean --logs', 'sync ', 'systemctl poweroff']);
    expect(run.filesLeft()).toEqual(['var/log/cloud-init-output.log']); // cloud-init clean --logs removes it on a real builder
  });
});

describe('generated bash', () => {
  it.each([
    ['a shell wrapper', shell('echo hi\n')],
    ['a cloud-config reporter part', cloudConfig('#cloud-config\n{}\n')],
    ['the reporter', LINUX_REPORTER],
  ])('passes bash -n: %s', (_name, text) => {
    const file = join(runScript('exit 0').dir, 'check.sh');
    writeFileSync(file, text);
    const check = spawnSync('bash', ['-n', file], { encoding: 'utf8' });

    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});
