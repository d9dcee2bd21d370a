import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocolSchemas, SCHEMA_DIR } from '../../../scripts/protocol-schemas.ts';

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
