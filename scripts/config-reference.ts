/**
 * Rewrites the configuration reference between the `config-reference` markers of docs/configuration.md from the
 * schema (src/config/schema.ts); test/unit/config/reference-doc.spec.ts fails until this has been run after a schema
 * change.
 *   node --import tsx scripts/config-reference.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configReference } from '../src/config/load.ts';

const doc = join(import.meta.dirname, '..', 'docs', 'configuration.md');
const text = readFileSync(doc, 'utf8');
const out = text.replace(/(<!-- config-reference:start[^>]*-->\n)[\s\S]*?(\n<!-- config-reference:end -->)/,
  (_m, start: string, end: string) => `${start}${configReference()}${end}`);
writeFileSync(doc, out);
