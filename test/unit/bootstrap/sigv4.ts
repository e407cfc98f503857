/** An independent SigV4 (node:crypto) to check the signature the bash reporter computed with openssl. */
import { createHash, createHmac } from 'node:crypto';
import type { CurlCall } from './harness.js';

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      header,
    );
  if (!m) return undefined;
  const [, accessKeyId = '', date = '', region = '', service = '', signed = '', signature = ''] = m;
  return { accessKeyId, date, region, service, signedHeaders: signed.split(';'), signature };
}

/** The signature AWS would expect for the captured request (curl sets Host from the URL). */
export function expectedSignature(call: CurlCall, secretAccessKey: string): string {
  const auth = parseAuthorization(call.headers.authorization ?? '');
  if (!auth) throw new Error(`unparseable Authorization header: ${call.headers.authorization}`);
  const url = new URL(call.url);
  const headers: Record<string, string> = { ...call.headers, host: url.host };
  const canonicalHeaders = auth.signedHeaders.map((h) => `${h}:${(headers[h] ?? '').trim()}\n`).join('');
  const canonicalRequest = [
    call.method,
    url.pathname,
    url.search.slice(1),
    canonicalHeaders,
    auth.signedHeaders.join(';'),
    sha256(call.stdin ?? ''),
  ].join('\n');
  const amzDate = headers['x-amz-date'] ?? '';
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${secretAccessKey}`, auth.date);
  for (const part of [auth.region, auth.service, 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}
