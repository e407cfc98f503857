import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROUTES } from '../../../functions/api/router.js';
import { startBodySchema } from '../../../functions/api/schemas.js';

interface Operation {
  parameters?: { $ref?: string; in?: string }[];
  requestBody?: { content?: Record<string, { examples?: Record<string, { value: unknown }> }> };
  responses: Record<string, unknown>;
}
interface OpenApi {
  openapi: string;
  security: Record<string, unknown>[];
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>> & {
    securitySchemes: Record<string, Record<string, unknown>>;
  };
}

const spec = parse(
  readFileSync(fileURLToPath(new URL('../../../docs/openapi.yml', import.meta.url)), 'utf8'),
) as OpenApi;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

const documented = Object.entries(spec.paths).flatMap(([path, item]) =>
  Object.keys(item)
    .filter((m) => METHODS.includes(m))
    .map((m) => `${m.toUpperCase()} ${path}`),
);
const served = ROUTES.map((r) => `${r.method} ${r.path}`);

function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refs(v)));
}

describe('docs/openapi.yml', () => {
  it('is OpenAPI 3.1 with SigV4 (IAM) security on every operation', () => {
    expect(spec.openapi).toMatch(/^3\.1\./);
    expect(spec.security).toEqual([{ sigv4: [] }]);
    expect(spec.components.securitySchemes.sigv4).toMatchObject({
      'x-amazon-apigateway-authtype': 'awsSigv4',
    });
  });

  it('documents every route the router serves', () => {
    expect(documented.sort()).toEqual(expect.arrayContaining(served.sort()));
  });

  it('documents no route the router does not serve', () => {
    expect(served.sort()).toEqual(expect.arrayContaining(documented.sort()));
    expect(documented).toHaveLength(served.length);
  });

  it('documents a 400 for every operation that takes input, and the error shape for each 4xx and 5xx', () => {
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const takesInput = path.includes('{') || op.parameters?.length || op.requestBody;
        if (takesInput) expect(op.responses, `${method} ${path}`).toHaveProperty('400');
        for (const status of Object.keys(op.responses).filter((s) => Number(s) >= 400)) {
          expect(refs(op.responses[status]).join(), `${method} ${path} ${status}`).toMatch(
            /#\/components\/(responses\/\w+|schemas\/Error)/,
          );
        }
      }
    }
  });

  it('has no $ref to a component that does not exist', () => {
    for (const ref of refs(spec)) {
      const [, section, name] = /^#\/components\/(\w+)\/(\w+)$/.exec(ref) ?? [];
      expect(spec.components[section ?? '']?.[name ?? ''], ref).toBeDefined();
    }
  });

  it('gives start request examples the API accepts', () => {
    const examples = spec.paths['/bakes']?.post?.requestBody?.content?.['application/json']?.examples ?? {};
    expect(Object.keys(examples).length).toBeGreaterThan(0);
    for (const [name, { value }] of Object.entries(examples)) {
      expect(startBodySchema.safeParse(value).success, name).toBe(true);
    }
  });
});
