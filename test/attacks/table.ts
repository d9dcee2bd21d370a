import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The attack/fault table: every hostile-input or fault case a test tries records one row (what was tried, what must
 * happen, what did happen). The rows go to JSON-lines files in a folder the global setup creates (tests run in forked
 * workers), and the global teardown prints them as one table at the end of the run (test/attacks/global-setup.ts).
 * A row never replaces an assertion: the test still fails on its own when observed differs from expected.
 */
export interface AttackRow {
  /** the area, e.g. `reference photo`, `request`, `durability`, `broker`, `privacy` */
  area: string;
  /** what was tried, e.g. `PNG 40000x1000 (4.9 KB)` */
  attack: string;
  expected: string;
  observed: string;
}

export const ATTACK_TABLE_ENV = 'REGTERM_ATTACK_TABLE_DIR';

export function recordAttack(row: AttackRow): void {
  const dir = process.env[ATTACK_TABLE_ENV];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${process.pid}.jsonl`), `${JSON.stringify(row)}\n`);
}
