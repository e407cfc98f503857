/**
 * The user data that runs the recipe's bootstrap on the builder and reports its outcome without SSH
 * or an agent: the instance tags itself (RESULT_TAG_KEY, LOG_TAIL_TAG_KEY), writes the result to its
 * serial console and powers off; the pipeline sees it `stopped` and reads the tag (or the console).
 * Pure functions: the Lambda bundles the scripts as strings.
 */
import { decodePartBody, splitMultipart, WRAPPER_HEADER, wrapCloudConfig } from './cloud-config.js';
import { USER_SCRIPT_DELIMITER_PREFIX, wrapShellScript } from './linux.js';
import {
  CONSOLE_LOG_PREFIX,
  CONSOLE_RESULT_PREFIX,
  LOG_TAIL_MAX_CHARS,
  type Outcome,
  type Platform,
  type UserDataFormat,
  WRAPPER_MARKER,
} from './protocol.js';
import type { BootstrapSecret } from './secrets.js';
import { USER_SCRIPT_HERE_STRING_OPENER, unescapeHereString, wrapPowerShell } from './windows.js';

export {
  CONSOLE_LOG_PREFIX,
  CONSOLE_RESULT_PREFIX,
  LOG_TAIL_MAX_CHARS,
  LOG_TAIL_TAG_KEY,
  type Outcome,
  type Platform,
  RESULT_TAG_KEY,
  type UserDataFormat,
  WRAPPER_MARKER,
} from './protocol.js';

export interface BootstrapResult {
  outcome: Outcome;
  exitCode: number;
  logTail?: string;
}

export interface InspectedUserData {
  platform: Platform;
  format: UserDataFormat;
  bakeId: string;
  userScript: string;
}

/** Bake ids go into comments and headers unquoted, so they are limited to characters that need no quoting. */
const BAKE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The raw (not base64) user data for the builder: the recipe's `script` wrapped by the reporter. */
export function wrapUserData(o: {
  platform: Platform;
  script: string;
  bakeId: string;
  /** bootstrap.secrets: names only; the builder fetches the values. */
  secrets?: readonly BootstrapSecret[];
}): string {
  if (!BAKE_ID.test(o.bakeId)) {
    throw new Error(
      `bake id ${JSON.stringify(o.bakeId)} cannot go into user data: use letters, digits, '.', '_', '-'`,
    );
  }
  if (o.script.includes('\0')) throw new Error('the bootstrap script contains a NUL character');
  const secrets = o.secrets ?? [];
  if (o.platform === 'windows') return wrapPowerShell(o.script, o.bakeId, secrets);
  if (o.script.startsWith('#cloud-config')) {
    if (secrets.length > 0)
      throw new Error(
        'secrets need a shell script: cloud-init runs a cloud-config before the wrapper could fetch them',
      );
    return wrapCloudConfig(o.script, o.bakeId);
  }
  return wrapShellScript(o.script, o.bakeId, secrets);
}

export function formatResultTag(r: { outcome: Outcome; exitCode: number }): string {
  if (!Number.isSafeInteger(r.exitCode))
    throw new RangeError(`exit code must be an integer, got ${r.exitCode}`);
  return `${r.outcome};exit=${r.exitCode}`;
}

/** Undefined for a missing or malformed value: the pipeline reports that as "no result". */
export function parseResultTag(
  value: string | undefined,
): { outcome: Outcome; exitCode: number } | undefined {
  const m = /^(success|failure);exit=(-?\d{1,10})$/.exec(value ?? '');
  if (!m) return undefined;
  const exitCode = Number(m[2]);
  return Number.isSafeInteger(exitCode) ? { outcome: m[1] as Outcome, exitCode } : undefined;
}

/**
 * The log tail as the wrapper tags it: colour codes and CRs dropped, line breaks and tabs as spaces,
 * printable ASCII only, trailing spaces trimmed, the last 250 chars. The bash reporter does the same.
 */
export function sanitizeLogTail(log: string): string {
  return (
    log
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour codes being removed
      .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
      .replace(/\r/g, '')
      .replace(/[\n\t]/g, ' ')
      .replace(/[^\x20-\x7e]/g, '')
      .replace(/ +$/, '')
      .slice(-LOG_TAIL_MAX_CHARS)
  );
}

/**
 * The outcome from the builder's console output (GetConsoleOutput, decoded): the last valid
 * `AMI-BAKE-RESULT {...}` line, with the `AMI-BAKE-LOG` lines written since the result before it.
 */
export function parseConsoleResult(consoleOutput: string): BootstrapResult | undefined {
  let result: BootstrapResult | undefined;
  let log: string[] = [];
  for (const raw of consoleOutput.split(/\r\n|\r|\n/)) {
    const line = raw.trimStart();
    if (line.startsWith(CONSOLE_LOG_PREFIX)) {
      log.push(line.slice(CONSOLE_LOG_PREFIX.length).trimEnd());
    } else if (line.startsWith(CONSOLE_RESULT_PREFIX)) {
      const parsed = parseResultJson(line.slice(CONSOLE_RESULT_PREFIX.length));
      if (!parsed) continue;
      result = log.length > 0 ? { ...parsed, logTail: log.join('\n') } : parsed;
      log = [];
    }
  }
  return result;
}

function parseResultJson(text: string): { outcome: Outcome; exitCode: number } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { outcome, exitCode } = value as Record<string, unknown>;
  if ((outcome !== 'success' && outcome !== 'failure') || !Number.isSafeInteger(exitCode)) return undefined;
  return { outcome, exitCode: exitCode as number };
}

/** Recognises our wrapper and extracts the user's part; throws Error with a clear message if the text is not our wrapper. */
export function inspectUserData(userData: string): InspectedUserData {
  if (userData.startsWith('#!/bin/bash\n')) return inspectShell(userData);
  if (userData.startsWith('Content-Type: multipart/mixed')) return inspectMultipart(userData);
  if (userData.startsWith('<powershell>\n')) return inspectPowerShell(userData);
  throw notOurs(userData);
}

function inspectShell(text: string): InspectedUserData {
  const { bakeId } = readHeader(text, 'shell');
  const opener = new RegExp(
    `^head -c -1 >"\\$STATE/user-script" <<'(${USER_SCRIPT_DELIMITER_PREFIX}[0-9a-f]{16}_*)'\\n`,
    'm',
  );
  const m = opener.exec(text);
  if (!m?.[1]) throw corrupt('shell', 'no embedded user script');
  const start = m.index + m[0].length;
  const end = text.indexOf(`\n${m[1]}\n`, start - 1);
  if (end < 0) throw corrupt('shell', `the heredoc ${m[1]} never ends`);
  return { platform: 'linux', format: 'shell', bakeId, userScript: text.slice(start, Math.max(start, end)) };
}

function inspectMultipart(text: string): InspectedUserData {
  const mime = splitMultipart(text);
  const marker = mime?.headers[WRAPPER_HEADER.toLowerCase()];
  if (!mime || !marker) throw notOurs(text);
  const m = /^(.*); bake-id=(\S+)$/.exec(marker);
  if (m?.[1] !== WRAPPER_MARKER || !m[2]) throw otherVersion(marker);
  const part = mime.parts[0];
  if (!part?.headers['content-type']?.startsWith('text/cloud-config')) {
    throw corrupt('cloud-config', 'the first part is not text/cloud-config');
  }
  return { platform: 'linux', format: 'cloud-config', bakeId: m[2], userScript: decodePartBody(part) };
}

function inspectPowerShell(text: string): InspectedUserData {
  const { bakeId } = readHeader(text, 'powershell');
  const opener = `\n${USER_SCRIPT_HERE_STRING_OPENER}\n`;
  const at = text.indexOf(opener);
  if (at < 0) throw corrupt('powershell', 'no embedded user script');
  const start = at + opener.length;
  // Escaping leaves no line of the script starting with '@, so the first one closes the here-string.
  const end = text.indexOf("\n'@", start - 1);
  if (end < 0) throw corrupt('powershell', 'the here-string never ends');
  const userScript = unescapeHereString(text.slice(start, Math.max(start, end)));
  return { platform: 'windows', format: 'powershell', bakeId, userScript };
}

/** The comment header both script formats start with (after the shebang or `<powershell>` line). */
function readHeader(text: string, format: UserDataFormat): { bakeId: string } {
  const [, marker, idLine, formatLine] = text.split('\n', 4);
  if (!marker?.startsWith('# ami-bake-wrapper')) throw notOurs(text);
  if (marker !== `# ${WRAPPER_MARKER}`) throw otherVersion(marker.slice(2));
  const bakeId = /^# ami-bake:bake-id=(\S+)$/.exec(idLine ?? '')?.[1];
  if (!bakeId || formatLine !== `# ami-bake:format=${format}`) throw corrupt(format, 'the header is damaged');
  return { bakeId };
}

function notOurs(text: string): Error {
  const start = JSON.stringify(text.slice(0, 40));
  const hint = /^[A-Za-z0-9+/=\s]{16,}$/.test(text) ? ' It looks base64-encoded: decode it first.' : '';
  return new Error(
    `user data was not written by ${WRAPPER_MARKER}: expected a bash script, a MIME multipart or a <powershell> ` +
      `block with the ${WRAPPER_MARKER} header, got ${start}${text.length > 40 ? '...' : ''}.${hint}`,
  );
}

function otherVersion(marker: string): Error {
  return new Error(
    `user data was written by "${marker}", which this version (${WRAPPER_MARKER}) cannot read`,
  );
}

function corrupt(format: UserDataFormat, problem: string): Error {
  return new Error(`user data has the ${WRAPPER_MARKER} ${format} header but is damaged: ${problem}`);
}
