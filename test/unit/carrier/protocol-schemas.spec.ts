import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocolSchemas, SCHEMA_DIR } from '../../../scripts/protocol-schemas.ts';
import { REJECT_REASONS, Topics } from '../../../src/carrier/protocol.ts';
import { requestFields } from '../../../src/carrier/request-fields.ts';

const PROTOCOL_DOC = new URL('../../../docs/protocol.md', import.meta.url);

describe('docs/protocol/*.schema.json', () => {
  const generated = protocolSchemas();

  it('are exactly the schemas generated from the zod schemas (run scripts/protocol-schemas.ts after a change)', () => {
    expect(readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json')).sort()).toEqual(Object.keys(generated).sort());
    for (const [name, text] of Object.entries(generated)) {
      expect(readFileSync(join(SCHEMA_DIR, name), 'utf8'), `${name} is out of date`).toBe(text);
    }
  });

  it('name every rejection reason and every field a schema rejection can carry', () => {
    const rejection = JSON.parse(generated['rejection.schema.json']!) as { properties: Record<string, { enum?: string[] }> };
    expect(rejection.properties.reason?.enum).toContain('busy');
    expect(rejection.properties.field?.enum).toEqual(expect.arrayContaining(['request', 'reference.format', 'policy.challenges.count']));
  });
});

describe('docs/protocol.md', () => {
  const text = readFileSync(PROTOCOL_DOC, 'utf8');

  it('has a row for every rejection reason', () => {
    const rows = new Set([...text.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]));
    expect(REJECT_REASONS.filter((r) => !rows.has(r))).toEqual([]);
  });

  it('names every topic the terminal uses and every request field', () => {
    const t = new Topics('D');
    const topics = [t.status, t.telemetry, t.request, t.ack('S'), t.result('S'), t.progress('S'), t.configDesired,
      t.configReported, t.traceRequest, t.trace('S'), t.certCsr, t.certIssued].map((topic) => topic.slice('regterm/v1/D/'.length));
    const named = topics.map((topic) => topic.replace(/\bS\b/, '<sessionId>'));
    for (const topic of named) expect(text, topic).toContain(`\`${topic}\``);
    for (const field of requestFields()) expect(text, field).toContain(`\`${field}\``);
  });
});
