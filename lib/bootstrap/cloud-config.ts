import { createHash } from 'node:crypto';
import { cloudConfigReporterPart } from './linux.js';
import { WRAPPER_MARKER } from './protocol.js';

export const WRAPPER_HEADER = 'X-Ami-Bake-Wrapper';

/**
 * cloud-init takes a cloud-config and a script together only as MIME multipart: part 1 is the
 * recipe's cloud-config, part 2 starts our reporter. Text that is not plain printable ASCII goes as
 * base64, because Python's email parser would re-encode 8-bit text and may alter CR/LF.
 */
export function wrapCloudConfig(cloudConfig: string, bakeId: string): string {
  let boundary = `AMI_BAKE_BOUNDARY_${createHash('sha256').update(cloudConfig).digest('hex').slice(0, 16)}`;
  while (cloudConfig.includes(boundary)) boundary += '_';
  const plain = /^[\x20-\x7e\t\n]*$/.test(cloudConfig);
  const body = plain
    ? cloudConfig
    : (
        Buffer.from(cloudConfig, 'utf8')
          .toString('base64')
          .match(/.{1,76}/g) ?? []
      ).join('\n');
  return [
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    'MIME-Version: 1.0',
    `${WRAPPER_HEADER}: ${WRAPPER_MARKER}; bake-id=${bakeId}`,
    '',
    `--${boundary}`,
    'Content-Type: text/cloud-config; charset="utf-8"',
    'MIME-Version: 1.0',
    `Content-Transfer-Encoding: ${plain ? '7bit' : 'base64'}`,
    'Content-Disposition: attachment; filename="cloud-config.txt"',
    '',
    // The line break before a boundary belongs to the boundary (RFC 2046): the part is `body` exactly.
    body,
    `--${boundary}`,
    'Content-Type: text/x-shellscript; charset="utf-8"',
    'MIME-Version: 1.0',
    'Content-Transfer-Encoding: 7bit',
    'Content-Disposition: attachment; filename="ami-bake-reporter.sh"',
    '',
    cloudConfigReporterPart(bakeId),
    `--${boundary}--`,
    '',
  ].join('\n');
}

export interface MimePart {
  headers: Record<string, string>;
  body: string;
}

/** Just enough MIME for what wrapCloudConfig writes: top-level headers and the raw parts. */
export function splitMultipart(
  text: string,
): { headers: Record<string, string>; parts: MimePart[] } | undefined {
  const head = splitHeaders(text);
  const boundary = /boundary="([^"]+)"/.exec(head.headers['content-type'] ?? '')?.[1];
  if (!boundary) return undefined;
  const parts: MimePart[] = [];
  let at = text.indexOf(`--${boundary}\n`, head.bodyStart);
  while (at >= 0) {
    const partStart = at + boundary.length + 3;
    const part = splitHeaders(text.slice(partStart));
    const bodyStart = partStart + part.bodyStart;
    const end = text.indexOf(`\n--${boundary}`, bodyStart - 1);
    if (end < 0) return undefined;
    parts.push({ headers: part.headers, body: text.slice(bodyStart, Math.max(end, bodyStart)) });
    at = text.startsWith(`\n--${boundary}\n`, end) ? end + 1 : -1;
  }
  return { headers: head.headers, parts };
}

function splitHeaders(text: string): { headers: Record<string, string>; bodyStart: number } {
  const blank = text.indexOf('\n\n');
  const headerText = blank < 0 ? text : text.slice(0, blank);
  const headers: Record<string, string> = {};
  for (const line of headerText.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, bodyStart: blank < 0 ? text.length : blank + 2 };
}

export function decodePartBody(part: MimePart): string {
  return part.headers['content-transfer-encoding']?.toLowerCase() === 'base64'
    ? Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8')
    : part.body;
}
