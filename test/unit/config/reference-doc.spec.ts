import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference } from '../../../src/config/load.ts';

const CONFIGURATION_DOC = new URL('../../../docs/configuration.md', import.meta.url);

describe('docs/configuration.md reference', () => {
  it('is the table generated from the schema (every key, env name, default and doc)', () => {
    const text = readFileSync(CONFIGURATION_DOC, 'utf8');
    const block = /<!-- config-reference:start[^>]*-->\n([\s\S]*?)\n<!-- config-reference:end -->/.exec(text);
    expect(block, 'docs/configuration.md is missing the config-reference markers').not.toBeNull();
    expect(block?.[1].trim(), 'run node --import tsx scripts/config-reference.ts').toBe(configReference());
  });
});
