// docs/configuration.md, generated from the JSON Schema (itself generated from the validator's valibot
// schemas, with descriptions.ts for what they leave out): every key with its type, allowed values,
// default and description, section by section, so that the reference cannot drift from what the
// gateway accepts. A default in words (what an absent key means) comes from descriptions.ts alone.
import { keyDoc } from './descriptions.js';
import { configJsonSchema } from './json-schema.js';
import { RESTART_ONLY } from './schema.js';

type Json = Record<string, unknown>;

/** Where each section's options are documented with their defaults and meaning. */
const SECTION_DOCS: Readonly<Record<string, string>> = {
  services: 'packages/client/README.md (the mesh client) and packages/discovery/README.md (dns, etcd)',
  routes: 'packages/routes/README.md#the-route-table',
  routing: 'packages/routes/README.md',
  tracing: 'packages/tracing/README.md',
  accessLog: 'packages/tracing/README.md',
  auth: 'packages/auth/README.md',
  rateLimit: 'packages/rate-limit/README.md',
  deadline: 'packages/client/README.md',
  versioning: 'packages/versioning/README.md',
  openapi: 'packages/openapi/README.md',
  aggregate: 'packages/aggregate/README.md',
  cache: 'packages/aggregate/README.md',
  admin: 'packages/core/README.md',
  paths: 'packages/core/README.md',
  clientIp: 'packages/core/README.md',
  headers: 'packages/core/README.md',
  requestId: 'packages/core/README.md',
  problems: 'packages/core/README.md',
  limits: 'packages/core/README.md',
  shutdown: 'packages/core/README.md',
};

interface Row {
  path: string;
  type: string;
  default: string;
  description: string;
}

const code = (text: string) => `\`${text.replace(/\|/g, '\\|')}\``;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A type in words: `string`, `integer 1–65535`, `'a' \| 'b'`, `object`, `array of string`. */
function typeOf(schema: Json, depth = 0): string {
  if (depth > 6) return '…';
  if (Array.isArray(schema.enum))
    return schema.enum.map((v) => code(JSON.stringify(v).replace(/"/g, "'"))).join(' \\| ');
  if (schema.const !== undefined) return code(JSON.stringify(schema.const).replace(/"/g, "'"));
  const branches = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (branches !== undefined) return [...new Set(branches.map((b) => typeOf(b, depth + 1)))].join(' \\| ');
  const type = schema.type;
  if (type === 'array') {
    const items = schema.items as Json | undefined;
    return `array of ${items === undefined ? 'any' : typeOf(items, depth + 1)}`;
  }
  if (type === 'object')
    return schema.additionalProperties !== undefined && schema.properties === undefined ? 'map' : 'object';
  if (type === 'integer' || type === 'number') {
    const unbounded = (n: unknown) => n === undefined || Math.abs(Number(n)) >= Number.MAX_SAFE_INTEGER;
    const min = unbounded(schema.minimum) ? undefined : Number(schema.minimum);
    const above = unbounded(schema.exclusiveMinimum) ? undefined : Number(schema.exclusiveMinimum);
    const max = unbounded(schema.maximum) ? undefined : Number(schema.maximum);
    const below = unbounded(schema.exclusiveMaximum) ? undefined : Number(schema.exclusiveMaximum);
    const low = min !== undefined ? String(min) : above !== undefined ? `>${above}` : undefined;
    const high = max !== undefined ? String(max) : below !== undefined ? `<${below}` : undefined;
    const range =
      low !== undefined && high !== undefined
        ? ` ${low}–${high}`
        : low !== undefined
          ? low.startsWith('>')
            ? ` ${low.replace('>', '> ')}`
            : ` ≥ ${low}`
          : high !== undefined
            ? ` ≤ ${high}`
            : '';
    return `${String(type)}${range}`;
  }
  if (Array.isArray(type)) return type.join(' \\| ');
  return typeof type === 'string' ? type : 'any';
}

function rows(schema: Json, path: string, out: Row[], depth: number): void {
  if (depth > 12) return;
  const properties = schema.properties as Record<string, Json> | undefined;
  if (properties !== undefined) {
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [key, child] of Object.entries(properties)) {
      const at = path === '' ? key : `${path}.${key}`;
      out.push({
        path: at,
        type: `${typeOf(child)}${required.has(key) ? ' (required)' : ''}`,
        default: defaultOf(child, at, required.has(key)),
        description: typeof child.description === 'string' ? child.description : '',
      });
      descend(child, at, out, depth + 1);
    }
  }
}

/** The default as a value the schema states, else what leaving the key out means (descriptions.ts). */
function defaultOf(schema: Json, path: string, required: boolean): string {
  if (schema.default !== undefined) return code(JSON.stringify(schema.default));
  const given = keyDoc(path.replace(/\.<name>/g, '.*'))?.default;
  if (given !== undefined && 'unset' in given) return given.unset;
  return required ? 'required' : '';
}

function descend(schema: Json, path: string, out: Row[], depth: number): void {
  rows(schema, path, out, depth);
  for (const branch of ((schema.anyOf ?? schema.oneOf) as Json[] | undefined) ?? [])
    descend(branch, path, out, depth);
  if (typeof schema.items === 'object' && schema.items !== null)
    descend(schema.items as Json, `${path}[]`, out, depth);
  if (typeof schema.additionalProperties === 'object' && schema.additionalProperties !== null)
    descend(schema.additionalProperties as Json, `${path}.<name>`, out, depth);
}

/** The configuration reference, in Markdown. */
export function configReference(): string {
  const root = configJsonSchema as Json;
  const properties = root.properties as Record<string, Json>;
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from packages/gateway/gatehouse.schema.json by configReference() (packages/gateway/src/config/reference.ts); a test fails when it is out of date. Regenerate: GATEHOUSE_WRITE_SCHEMA=1 npx vitest run --project gateway packages/gateway/src/config/json-schema.test.ts -->',
    '',
    'Every key of a Gatehouse configuration file (YAML or JSON), as `gatehouse validate`, `gatewayFromFile()` and the',
    'JSON Schema editors use check it, with its meaning and its default: a value (in code; editors offer it too), or in',
    'words what leaving the key out means (`none`: nothing of the kind; `required`: it must be given). The README named',
    'under each section tells the whole story of its options.',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the reference names the syntax
    'Values may be `${NAME}`, `${NAME:-default}` or `${file:/run/secrets/name}` (see the gateway README); what cannot',
    'change while the gateway runs is marked *restart*.',
    '',
  ];
  // Sections that change only at a restart as a whole (admin.dashboard alone does not make admin one).
  const restart = new Set(RESTART_ONLY.filter((key) => !key.includes('.')));
  for (const [key, section] of Object.entries(properties)) {
    if (key === '$schema') continue;
    lines.push(`## \`${key}\`${restart.has(key) ? ' *(restart)*' : ''}`, '');
    if (typeof section.description === 'string') lines.push(section.description, '');
    if (SECTION_DOCS[key] !== undefined)
      lines.push(`Every option with its default and meaning: ${SECTION_DOCS[key]}.`, '');
    const found: Row[] = [];
    descend(section, key, found, 0);
    const seen = new Set<string>();
    const unique = found.filter((r) => !seen.has(r.path) && seen.add(r.path));
    if (unique.length === 0) {
      lines.push(`Type: ${typeOf(section)}.`, '');
      continue;
    }
    lines.push('| key | type | default | meaning |', '| --- | --- | --- | --- |');
    for (const r of unique)
      lines.push(`| ${code(r.path)} | ${r.type} | ${r.default} | ${cell(r.description)} |`);
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
