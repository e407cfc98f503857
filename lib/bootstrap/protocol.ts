/**
 * What the wrapper on the builder and the pipeline agree on: the marker, the tag keys and the
 * console line prefixes. The scripts embed these values, so a change here changes both sides.
 */
export const WRAPPER_MARKER = 'ami-bake-wrapper v1';
/** Value: `success;exit=0` | `failure;exit=3`. */
export const RESULT_TAG_KEY = 'ami-bake:bootstrap-result';
/** Value: the last <=250 chars of the log, printable ASCII only. */
export const LOG_TAIL_TAG_KEY = 'ami-bake:bootstrap-log-tail';
export const LOG_TAIL_MAX_CHARS = 250;
/** How many log lines the wrapper copies to the serial console before the result line. */
export const CONSOLE_LOG_LINES = 20;
export const CONSOLE_LOG_PREFIX = 'AMI-BAKE-LOG ';
export const CONSOLE_RESULT_PREFIX = 'AMI-BAKE-RESULT ';

export type Platform = 'linux' | 'windows';
export type UserDataFormat = 'shell' | 'cloud-config' | 'powershell';
export type Outcome = 'success' | 'failure';

/**
 * Tag for the embedded bash and PowerShell: the raw text (backslashes kept as written), except that
 * `\${` and `` \` `` lose their backslash. Scripts then read as they run, and `${...}` without a
 * backslash still interpolates a TypeScript value.
 */
export function script(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  const raw = strings.raw.map((s) => s.replaceAll('\\${', '${').replaceAll('\\`', '`'));
  return String.raw({ raw }, ...values);
}
