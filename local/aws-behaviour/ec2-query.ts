import { randomUUID } from 'node:crypto';
import { escapeXml } from './xml.js';

/** What the layer answers: a whole response, buffered (EC2 answers are small). */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Region and service from the SigV4 credential scope: `Credential=AKID/20261130/eu-west-1/ec2/aws4_request`. */
export function credentialScope(authorization: string | undefined): { region: string; service: string } {
  const m = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return { region: m?.[1] ?? 'us-east-1', service: m?.[2] ?? 'unknown' };
}

/** A header naming the region, for the layer's own upstream calls (moto checks no signature). */
export function syntheticAuthorization(region: string, service = 'ec2'): string {
  return `AWS4-HMAC-SHA256 Credential=ami-bake-layer/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

/** `InstanceId.1`, `InstanceId.2`, ... in order. */
export function listParam(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let n = 1; params.has(`${prefix}.${n}`); n++) out.push(params.get(`${prefix}.${n}`) ?? '');
  return out;
}

export interface Filter {
  name: string;
  values: string[];
}

export function filtersOf(params: URLSearchParams): Filter[] {
  const out: Filter[] = [];
  for (let n = 1; params.has(`Filter.${n}.Name`); n++) {
    out.push({ name: params.get(`Filter.${n}.Name`) ?? '', values: listParam(params, `Filter.${n}.Value`) });
  }
  return out;
}

/** A copy of params with exactly these filters (renumbered from 1). */
export function withFilters(params: URLSearchParams, filters: Filter[]): URLSearchParams {
  const out = without(params, 'Filter.');
  filters.forEach((f, i) => {
    out.set(`Filter.${i + 1}.Name`, f.name);
    f.values.forEach((v, j) => {
      out.set(`Filter.${i + 1}.Value.${j + 1}`, v);
    });
  });
  return out;
}

export interface TagSpecification {
  resourceType: string;
  tags: { key: string; value: string }[];
}

export function tagSpecificationsOf(params: URLSearchParams): TagSpecification[] {
  const out: TagSpecification[] = [];
  for (let n = 1; params.has(`TagSpecification.${n}.ResourceType`); n++) {
    const tags: TagSpecification['tags'] = [];
    for (let t = 1; params.has(`TagSpecification.${n}.Tag.${t}.Key`); t++) {
      tags.push({
        key: params.get(`TagSpecification.${n}.Tag.${t}.Key`) ?? '',
        value: params.get(`TagSpecification.${n}.Tag.${t}.Value`) ?? '',
      });
    }
    out.push({ resourceType: params.get(`TagSpecification.${n}.ResourceType`) ?? '', tags });
  }
  return out;
}

/** A copy of params with exactly these tag specifications (renumbered from 1). */
export function withTagSpecifications(params: URLSearchParams, specs: TagSpecification[]): URLSearchParams {
  const out = without(params, 'TagSpecification.');
  specs.forEach((s, i) => {
    out.set(`TagSpecification.${i + 1}.ResourceType`, s.resourceType);
    s.tags.forEach((t, j) => {
      out.set(`TagSpecification.${i + 1}.Tag.${j + 1}.Key`, t.key);
      out.set(`TagSpecification.${i + 1}.Tag.${j + 1}.Value`, t.value);
    });
  });
  return out;
}

export function ec2Params(action: string, entries: Record<string, string> = {}): URLSearchParams {
  return new URLSearchParams({ Action: action, Version: '2016-11-15', ...entries });
}

export function createTagsParams(resources: string[], tags: TagSpecification['tags']): URLSearchParams {
  const params = ec2Params('CreateTags');
  resources.forEach((r, i) => {
    params.set(`ResourceId.${i + 1}`, r);
  });
  tags.forEach((t, i) => {
    params.set(`Tag.${i + 1}.Key`, t.key);
    params.set(`Tag.${i + 1}.Value`, t.value);
  });
  return params;
}

function without(params: URLSearchParams, prefix: string): URLSearchParams {
  return new URLSearchParams([...params].filter(([k]) => !k.startsWith(prefix)));
}

/** EC2's error shape (Query protocol, EC2 flavour). */
export function ec2Error(status: number, code: string, message: string): Reply {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors>` +
    `<RequestID>${randomUUID()}</RequestID></Response>`;
  return { status, headers: { 'content-type': 'text/xml;charset=UTF-8' }, body };
}

/** An AWS error in the protocol the caller speaks: EC2 XML, JSON (x-amz-target), or Query XML. */
export function awsError(
  service: string,
  json: boolean,
  error: { code: string; status: number; message?: string },
): Reply {
  const message = error.message ?? `injected fault: ${error.code}`;
  if (service === 'ec2') return ec2Error(error.status, error.code, message);
  if (json) {
    return {
      status: error.status,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': error.code },
      body: JSON.stringify({ __type: error.code, message }),
    };
  }
  const type = error.status < 500 ? 'Sender' : 'Receiver';
  return {
    status: error.status,
    headers: { 'content-type': 'text/xml' },
    body:
      `<ErrorResponse><Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code>` +
      `<Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

export function xmlReply(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'text/xml;charset=UTF-8' }, body };
}
