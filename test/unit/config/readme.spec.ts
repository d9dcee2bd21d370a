import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference } from '../../../src/config/load.ts';

const README = new URL('../../../README.md', import.meta.url);

describe('README configuration reference', () => {
  it('is the table generated from the schema (every key, env name, default and doc)', () => {
    const text = readFileSync(README, 'utf8');
    const block = /<!-- config-reference:start[^>]*-->\n([\s\S]*?)\n<!-- config-reference:end -->/.exec(text);
    expect(block, 'README is missing the config-reference markers').not.toBeNull();
    expect(block?.[1].trim()).toBe(configReference());
  });
});
