import { describe, expect, it } from 'vitest';
import {
  formatResultTag,
  inspectUserData,
  LOG_TAIL_TAG_KEY,
  parseConsoleResult,
  parseResultTag,
  RESULT_TAG_KEY,
  sanitizeLogTail,
  WRAPPER_MARKER,
  wrapUserData,
} from '../../../lib/bootstrap/wrapper.js';

const bakeId = 'bake-20240601-abcdef';

describe('the protocol constants', () => {
  it('are the values the pipeline reads', () => {
    expect(WRAPPER_MARKER).toBe('ami-bake-wrapper v1');
    expect(RESULT_TAG_KEY).toBe('ami-bake:bootstrap-result');
    expect(LOG_TAIL_TAG_KEY).toBe('ami-bake:bootstrap-log-tail');
  });
});

describe('formatResultTag / parseResultTag', () => {
  it.each([
    [{ outcome: 'success', exitCode: 0 }, 'success;exit=0'],
    [{ outcome: 'failure', exitCode: 3 }, 'failure;exit=3'],
    [{ outcome: 'success', exitCode: 2 }, 'success;exit=2'],
    [{ outcome: 'failure', exitCode: -1073741819 }, 'failure;exit=-1073741819'],
  ] as const)('formats %o as %s and parses it back', (result, tag) => {
    expect(formatResultTag(result)).toBe(tag);
    expect(parseResultTag(tag)).toEqual(result);
  });

  it.each([
    undefined,
    '',
    'success',
    'success;exit=',
    'ok;exit=0',
    ' success;exit=0',
    'success;exit=0 ',
    'failure;exit=1.5',
    'failure;exit=12345678901',
  ])('reads %o as no result', (value) => {
    expect(parseResultTag(value)).toBeUndefined();
  });

  it('refuses to format a non-integer exit code', () => {
    expect(() => formatResultTag({ outcome: 'failure', exitCode: 1.5 })).toThrow(/integer/);
  });
});

describe('sanitizeLogTail', () => {
  it('keeps the last 250 characters', () => {
    const log = `${'x'.repeat(300)}END`;
    expect(sanitizeLogTail(log)).toBe(`${'x'.repeat(247)}END`);
  });

  it('drops colour codes, CRs and control characters, turns line breaks and tabs into spaces, trims the end', () => {
    expect(sanitizeLogTail('\x1b[1;32mok\x1b[0m\r\nnext\tcol\x07\x00 é\n\n')).toBe('ok next col');
  });

  it('returns an empty string for an empty log', () => {
    expect(sanitizeLogTail('')).toBe('');
  });
});

describe('parseConsoleResult', () => {
  it('finds the last result block the wrapper wrote, with its log lines', () => {
    const console = [
      '[   12.3] cloud-init[800]: starting',
      'AMI-BAKE-LOG old run',
      'AMI-BAKE-RESULT {"outcome":"success","exitCode":0}',
      'noise',
      'AMI-BAKE-LOG step 1',
      'AMI-BAKE-LOG step 2 failed',
      'AMI-BAKE-RESULT {"outcome":"failure","exitCode":3}',
      '[   20.1] reboot: Power down',
    ].join('\r\n');

    expect(parseConsoleResult(console)).toEqual({
      outcome: 'failure',
      exitCode: 3,
      logTail: 'step 1\nstep 2 failed',
    });
  });

  it('ignores garbled result lines and a log line that merely mentions a result', () => {
    const console = [
      'AMI-BAKE-RESULT {"outcome":"success","exitCode":0}',
      'AMI-BAKE-LOG AMI-BAKE-RESULT {"outcome":"success","exitCode":0}',
      'AMI-BAKE-RESULT {"outcome":"failure","exitCo',
      'AMI-BAKE-RESULT {"outcome":"maybe","exitCode":1}',
      'AMI-BAKE-RESULT {"outcome":"failure","exitCode":"1"}',
    ].join('\n');

    expect(parseConsoleResult(console)).toEqual({ outcome: 'success', exitCode: 0 });
  });

  it('returns undefined when the wrapper wrote no result', () => {
    expect(parseConsoleResult('')).toBeUndefined();
    expect(parseConsoleResult('AMI-BAKE-LOG started\nkernel panic\n')).toBeUndefined();
  });
});

describe('wrapUserData', () => {
  it('writes a bash script with the marker and bake id for a shell script', () => {
    const userData = wrapUserData({ platform: 'linux', script: 'echo hi\n', bakeId });

    expect(userData.split('\n').slice(0, 4)).toEqual([
      '#!/bin/bash',
      `# ${WRAPPER_MARKER}`,
      `# ami-bake:bake-id=${bakeId}`,
      '# ami-bake:format=shell',
    ]);
  });

  it('writes a MIME multipart with the cloud-config first and the reporter second for #cloud-config', () => {
    const userData = wrapUserData({
      platform: 'linux',
      script: '#cloud-config\npackages: [nginx]\n',
      bakeId,
    });

    expect(userData).toMatch(
      /^Content-Type: multipart\/mixed; boundary="AMI_BAKE_BOUNDARY_[0-9a-f]{16}"\nMIME-Version: 1\.0\n/,
    );
    const types = [...userData.matchAll(/^Content-Type: (text\/[a-z-]+)/gm)].map((m) => m[1]);
    expect(types).toEqual(['text/cloud-config', 'text/x-shellscript']);
    expect(userData).toContain('\n\n#cloud-config\npackages: [nginx]\n\n--AMI_BAKE_BOUNDARY_');
  });

  it('sends a cloud-config that is not plain ASCII as base64, so no MIME parser re-encodes it', () => {
    const userData = wrapUserData({
      platform: 'linux',
      script: '#cloud-config\r\nwrite_files: [{content: "café"}]\r\n',
      bakeId,
    });

    expect(userData).toContain('Content-Transfer-Encoding: base64');
    expect(userData).not.toContain('café');
  });

  it('puts no credentials and nothing from the environment into the user data', () => {
    process.env.AMI_BAKE_TEST_SECRET = 'do-not-leak-1234';
    try {
      for (const [platform, script] of [
        ['linux', 'echo hi'],
        ['linux', '#cloud-config\n{}'],
        ['windows', 'Write-Host hi'],
      ] as const) {
        const userData = wrapUserData({ platform, script, bakeId });
        expect(userData).not.toMatch(/(AKIA|ASIA)[A-Z0-9]{16}/);
        expect(userData).not.toMatch(/aws_secret_access_key|X-Amz-Security-Token: [A-Za-z0-9]/i);
        expect(userData).not.toContain('do-not-leak-1234');
        expect(userData).not.toContain(process.env.HOME ?? '/nonexistent-home');
        expect(wrapUserData({ platform, script, bakeId })).toBe(userData);
      }
    } finally {
      delete process.env.AMI_BAKE_TEST_SECRET;
    }
  });

  it('rejects a bake id that would need quoting', () => {
    expect(() => wrapUserData({ platform: 'linux', script: 'true', bakeId: 'x; rm -rf /' })).toThrow(
      /bake id/,
    );
    expect(() => wrapUserData({ platform: 'linux', script: 'true', bakeId: '' })).toThrow(/bake id/);
  });

  it('rejects a script with a NUL character, which no heredoc can carry', () => {
    expect(() => wrapUserData({ platform: 'linux', script: 'a\0b', bakeId })).toThrow(/NUL/);
  });
});

describe('inspectUserData', () => {
  const shellScripts = {
    'plain script': 'echo hi\n',
    'no trailing newline': 'echo hi',
    'trailing blank lines': 'echo hi\n\n\n',
    'dollars, backticks and quotes': `echo "$HOME" \`date\` '$x' \\$y \${z:-w}\n`,
    'heredoc-like lines':
      "cat <<'EOF' >/tmp/x\nEOF\nAMI_BAKE_REPORTER\nAMI_BAKE_USER_SCRIPT_0123456789abcdef\n<<'AMI_BAKE_USER_SCRIPT_x'\n",
    'CRLF line ends': 'echo hi\r\necho there\r\n',
    'a python shebang and unicode': '#!/usr/bin/env python3\nprint("héllo ✓")\n',
    'an empty script': '',
  };
  const cloudConfigs = {
    'plain cloud-config': '#cloud-config\npackages: [nginx]\n',
    'no trailing newline': '#cloud-config\nruncmd: ["echo $HOME `x`"]',
    'a boundary-like line': '#cloud-config\n# --AMI_BAKE_BOUNDARY_0000000000000000\nruncmd: [true]\n',
    'CRLF and unicode (base64)': '#cloud-config\r\nwrite_files: [{path: /x, content: "ünï"}]\r\n',
  };
  const powerShells = {
    'plain script': 'Write-Host "hi"\n',
    'nested here-strings': '$a = @\'\nliteral $x\n\'@\n$b = @"\nexpanded $x\n"@\n',
    'indented closer and pipe lines': "  '@\n| not a pipe\n||\n|'@\n",
    'CRLF with backticks and $': 'Write-Host "tab`there $env:USERNAME"\r\n\'@\r\nexit 3\r\n',
    'unicode, no trailing newline': 'Write-Host "ünï ✓"',
    'Unicode single quotes as closers': '\u2019@\n\u2018@\n\u201a@\n  \u201b@\n|\u2019@\n',
    'lone CRs before closers and pipes': "a\r'@\r|b\r\u2019@\r\n|c\r",
  };

  it.each(Object.entries(shellScripts))('round-trips a shell script: %s', (_name, script) => {
    expect(inspectUserData(wrapUserData({ platform: 'linux', script, bakeId }))).toEqual({
      platform: 'linux',
      format: 'shell',
      bakeId,
      userScript: script,
    });
  });

  it.each(Object.entries(cloudConfigs))('round-trips a cloud-config: %s', (_name, script) => {
    expect(inspectUserData(wrapUserData({ platform: 'linux', script, bakeId }))).toEqual({
      platform: 'linux',
      format: 'cloud-config',
      bakeId,
      userScript: script,
    });
  });

  it.each(Object.entries(powerShells))('round-trips a PowerShell script: %s', (_name, script) => {
    expect(inspectUserData(wrapUserData({ platform: 'windows', script, bakeId }))).toEqual({
      platform: 'windows',
      format: 'powershell',
      bakeId,
      userScript: script,
    });
  });

  it.each(Object.entries(powerShells))(
    'leaves no line PowerShell would read as the end of the here-string, after LF, CRLF or a lone CR: %s',
    (_name, script) => {
      const userData = wrapUserData({ platform: 'windows', script, bakeId });
      const start = userData.indexOf("$abUserScript = @'\n") + "$abUserScript = @'\n".length;
      const end = userData.indexOf("\n'@\n$abUserScript = ");
      // PowerShell ends a line at LF, CRLF or a lone CR, and takes U+2018..U+201B as single quotes.
      const lines = userData.slice(start, end).split(/\r\n|\r|\n/);
      expect(lines.filter((line) => /^\s*['\u2018-\u201b]@/.test(line))).toEqual([]);
    },
  );

  it.each([
    ['a plain shell script', '#!/bin/bash\necho hi\n'],
    ['a plain cloud-config', '#cloud-config\npackages: [nginx]\n'],
    ['a plain PowerShell block', '<powershell>\nWrite-Host hi\n</powershell>\n'],
    [
      'a multipart from someone else',
      'Content-Type: multipart/mixed; boundary="b"\nMIME-Version: 1.0\n\n--b\n\nx\n--b--\n',
    ],
    ['empty user data', ''],
  ])('rejects %s as not written by the wrapper', (_name, userData) => {
    expect(() => inspectUserData(userData)).toThrow(/user data was not written by ami-bake-wrapper v1/);
  });

  it('says so when it is given the base64 form', () => {
    const encoded = Buffer.from(wrapUserData({ platform: 'linux', script: 'true', bakeId })).toString(
      'base64',
    );
    expect(() => inspectUserData(encoded)).toThrow(/looks base64-encoded/);
  });

  it('names a different wrapper version', () => {
    const userData = wrapUserData({ platform: 'linux', script: 'true', bakeId }).replace(
      WRAPPER_MARKER,
      'ami-bake-wrapper v2',
    );
    expect(() => inspectUserData(userData)).toThrow(/written by "ami-bake-wrapper v2"/);
  });

  it.each([
    ['shell', wrapUserData({ platform: 'linux', script: 'echo CUT_HERE', bakeId })],
    ['powershell', wrapUserData({ platform: 'windows', script: 'Write-Host CUT_HERE', bakeId })],
  ])('reports a truncated %s wrapper as damaged', (_format, userData) => {
    const cut = userData.slice(0, userData.indexOf('CUT_HERE') + 8);
    expect(() => inspectUserData(cut)).toThrow(/header but is damaged/);
  });
});
