import { describe, expect, it } from 'vitest';
import {
  LOG_TAIL_TAG_KEY,
  RESULT_TAG_KEY,
  WRAPPER_MARKER,
  wrapUserData,
} from '../../../lib/bootstrap/wrapper.js';

const bakeId = 'bake-20240601-abcdef';
const wrap = (script: string) => wrapUserData({ platform: 'windows', script, bakeId });

describe('Windows wrapper (EC2Launch v2)', () => {
  const userData = wrap('Install-WindowsFeature Web-Server\nexit 3\n');

  it('is one <powershell> block with the marker, bake id and format, followed by <persist>false</persist>', () => {
    expect(userData.split('\n').slice(0, 4)).toEqual([
      '<powershell>',
      `# ${WRAPPER_MARKER}`,
      `# ami-bake:bake-id=${bakeId}`,
      '# ami-bake:format=powershell',
    ]);
    expect(userData.endsWith('\n</powershell>\n<persist>false</persist>\n')).toBe(true);
    expect(userData.match(/<\/?powershell>/g)).toEqual(['<powershell>', '</powershell>']);
  });

  it('writes the script to C:\\ProgramData\\ami-bake\\user-script.ps1 and runs it in a child PowerShell, logging its output', () => {
    expect(userData).toContain("$abDir = 'C:\\ProgramData\\ami-bake'");
    expect(userData).toContain("Join-Path $abDir 'user-script.ps1'");
    expect(userData).toMatch(
      /& \$abExe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File \$abScript 2>&1/,
    );
    expect(userData).toContain('Tee-Object -FilePath $abLog');
    expect(userData).toContain('$abRc = $LASTEXITCODE');
  });

  it('reads the instance id and region from IMDSv2 and tags the instance with New-EC2Tag', () => {
    expect(userData).toContain("-Method Put -Uri 'http://169.254.169.254/latest/api/token'");
    expect(userData).toContain("'X-aws-ec2-metadata-token' = $token");
    expect(userData).toContain("Get-AbImds 'instance-id'");
    expect(userData).toContain("Get-AbImds 'placement/region'");
    expect(userData).toContain('New-EC2Tag -Region $region -Resource $id');
    expect(userData).toContain(`@{ Key = '${RESULT_TAG_KEY}'; Value = "$abOutcome;exit=$abRc" }`);
    expect(userData).toContain(`@{ Key = '${LOG_TAIL_TAG_KEY}'; Value = $abTail }`);
  });

  it('writes the log lines and the result to the console (Write-Host and COM1), then shuts down', () => {
    expect(userData).toContain('\'AMI-BAKE-LOG \' + (ConvertTo-AbPrintable "$_")');
    expect(userData).toContain(
      '\'AMI-BAKE-RESULT {"outcome":"\' + $abOutcome + \'","exitCode":\' + $abRc + \'}\'',
    );
    expect(userData).toContain("New-Object System.IO.Ports.SerialPort 'COM1', 115200");
    expect(userData.indexOf('Write-AbConsole $abLines')).toBeLessThan(
      userData.indexOf('Stop-Computer -Force'),
    );
  });

  it('uses PowerShell backticks literally (no template escapes leak through)', () => {
    expect(userData).toContain('-replace "`r", \'\' -replace "`t", \' \'');
    expect(userData).not.toContain('\\`');
  });

  it('strips the escaping | after every line break PowerShell knows, a lone CR included', () => {
    expect(userData).toContain("$abUserScript = $abUserScript -replace '(?<=\\A|[\\r\\n])\\|', ''");
  });

  it('restricts its folder to SYSTEM and Administrators, and removes it (script and log) before shutting down', () => {
    expect(userData).toContain(
      "icacls $abDir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F'",
    );
    const removed = userData.indexOf('Remove-Item -Recurse -Force -Path $abDir');
    expect(removed).toBeGreaterThan(userData.indexOf('Write-AbConsole $abLines'));
    expect(removed).toBeLessThan(userData.indexOf('Stop-Computer -Force'));
  });

  describe('with bootstrap.secrets', () => {
    const secretArn = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:ami-bake/web/tls-AbCdEf';
    const withSecrets = wrapUserData({
      platform: 'windows',
      script: 'Write-Host hi',
      bakeId,
      secrets: [
        { parameter: '/ami-bake/web/db-password', env: 'DB_PASSWORD' },
        { secretArn, file: 'C:\\ami-bake\\tls.pem' },
      ],
    });
    const runsScript = withSecrets.indexOf('& $abExe');

    it("fetches them with the AWS Tools before the script runs: SSM in the build region, Secrets Manager in the secret's", () => {
      const ssm = withSecrets.indexOf(
        "Get-SSMParameter -Name '/ami-bake/web/db-password' -WithDecryption $true -Region $abRegion -ErrorAction Stop",
      );
      const sm = withSecrets.indexOf(
        `Get-SECSecretValue -SecretId '${secretArn}' -Region 'us-east-2' -ErrorAction Stop`,
      );

      expect(ssm).toBeGreaterThan(0);
      expect(sm).toBeGreaterThan(0);
      expect(Math.max(ssm, sm)).toBeLessThan(runsScript);
    });

    it('gives the child PowerShell a variable or a file readable by SYSTEM and Administrators only, and removes both afterwards', () => {
      expect(withSecrets).toContain(
        "[Environment]::SetEnvironmentVariable('DB_PASSWORD', $abValue, 'Process')",
      );
      expect(withSecrets).toContain("Set-AbSecretFile 'C:\\ami-bake\\tls.pem' $abValue");
      expect(
        withSecrets.indexOf("[Environment]::SetEnvironmentVariable('DB_PASSWORD', $null, 'Process')"),
      ).toBeGreaterThan(runsScript);
      expect(withSecrets.indexOf("Remove-Item -Force -Path 'C:\\ami-bake\\tls.pem'")).toBeGreaterThan(
        runsScript,
      );
    });

    it('replaces every value, and each line of a multi-line one, in each line the script prints, before the log and the console see it', () => {
      expect(withSecrets).toMatch(
        /2>&1 \|\s+ForEach-Object \{ Hide-AbSecret "\$_" \} \| Tee-Object -FilePath \$abLog/,
      );
      expect(withSecrets).toContain('$abRedact += @($abValue -split "`r?`n" | Where-Object { $_ })');
    });

    it('does not run the script when a secret cannot be fetched, and reports failure', () => {
      expect(withSecrets).toContain('if ($abSecretsOk) {');
      expect(withSecrets).toContain("'ami-bake: secret /ami-bake/web/db-password could not be fetched: '");
    });

    it('puts names in the user data, never values', () => {
      expect(withSecrets).not.toMatch(/SecretString\s*=|Value\s*=\s*'/);
    });
  });

  it('refuses a script that contains </powershell>, which would end the block early', () => {
    expect(() => wrap('Write-Host "</PowerShell>"')).toThrow(/<\/powershell>/);
  });
});
