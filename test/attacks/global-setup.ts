import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTACK_TABLE_ENV, type AttackRow } from './table.ts';

/** Creates the folder the attack rows go to before the workers fork, and prints the table after the run. */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'regterm-attacks-'));
  process.env[ATTACK_TABLE_ENV] = dir;
  return () => {
    const rows: AttackRow[] = [];
    for (const f of readdirSync(dir).sort()) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line.trim()) rows.push(JSON.parse(line) as AttackRow);
    }
    rmSync(dir, { recursive: true, force: true });
    if (rows.length > 0) process.stdout.write(formatAttackTable(rows));
  };
}

export function formatAttackTable(rows: AttackRow[]): string {
  rows.sort((a, b) => a.area.localeCompare(b.area) || a.attack.localeCompare(b.attack));
  const ok = (r: AttackRow): string => (r.expected === r.observed ? 'yes' : 'NO');
  const lines = [
    `\nAttacks and faults tried: ${rows.length}, observed as expected: ${rows.filter((r) => ok(r) === 'yes').length}\n`,
    '| area | attack or fault | expected | observed | as expected |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.area} | ${r.attack} | ${r.expected} | ${r.observed} | ${ok(r)} |`),
  ];
  return `${lines.join('\n')}\n`;
}
