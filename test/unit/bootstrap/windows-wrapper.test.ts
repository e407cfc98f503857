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

  it('refuses a script that contains </powershell>, which would end the block early', () => {
    expect(() => wrap('Write-Host "</PowerShell>"')).toThrow(/<\/powershell>/);
  });
});
