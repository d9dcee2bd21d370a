import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENTS_COLUMNS } from '../../../src/camera/events-csv.ts';
import { CAMERA_FLAGS } from '../../../src/camera/create-frame-source.ts';
import { COMMANDS } from '../../../src/cli/commands.ts';
import { ANTISPOOF_COLUMNS, PAIRS_COLUMNS } from '../../../src/cli/eval.ts';
import { BOXES_COLUMNS, POSE_COLUMNS } from '../../../src/cli/eval-pose.ts';

const BIN = new URL('../../../bin/regterm.js', import.meta.url).pathname;
const regterm = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

/** The source files whose parseArgs tables make up a command's flags (eval hands replay-attack to its own file). */
const SOURCES: Record<string, string[]> = { eval: ['eval.ts', 'eval-replay-attack.ts'] };

/**
 * Every flag a command's parseArgs accepts, read from its source: each `name: { type: ... }` entry of an options
 * table, each name of a `parse(args, [...])` list, plus the shared camera flags where a table spreads CAMERA_FLAGS.
 * `--help` itself is left out.
 */
function acceptedFlags(command: string): string[] {
  const flags = new Set<string>();
  for (const file of SOURCES[command] ?? [`${command}.ts`]) {
    const src = readFileSync(new URL(`../../../src/cli/${file}`, import.meta.url), 'utf8');
    for (const m of src.matchAll(/(?:^|[\s{,])'?([a-z][a-z0-9-]*)'?:\s*\{\s*type:\s*'(?:string|boolean)'/gm)) flags.add(m[1]);
    // carrier and release name each subcommand's string flags in a list: parse(args, ['out', ...])
    for (const m of src.matchAll(/parse\(args, \[([^\]]*)\]\)/g)) for (const n of m[1].matchAll(/'([a-z][a-z0-9-]*)'/g)) flags.add(n[1]);
    if (src.includes('...CAMERA_FLAGS')) for (const f of Object.keys(CAMERA_FLAGS)) flags.add(f);
  }
  flags.delete('help');
  return [...flags];
}

/** The CSV columns each CSV-reading command's help must name. */
const CSV_COLUMNS: Record<string, readonly string[]> = {
  eval: [...PAIRS_COLUMNS, ...ANTISPOOF_COLUMNS, ...POSE_COLUMNS, ...BOXES_COLUMNS, ...EVENTS_COLUMNS],
  record: EVENTS_COLUMNS,
};

describe('regterm --help', () => {
  it('lists every command', () => {
    const run = regterm('--help');
    expect(run.status).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(run.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it.each(Object.keys(COMMANDS))('%s --help prints its usage with every flag it accepts and exits 0', (name) => {
    const run = regterm(name, '--help');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/usage/i);
    const flags = acceptedFlags(name);
    expect(flags.length, 'the flag scan found nothing: has the options table changed shape?').toBeGreaterThan(0);
    expect(flags.filter((f) => !new RegExp(`--${f}\\b`).test(run.stdout)), `${name} --help does not mention`).toEqual([]);
    for (const column of CSV_COLUMNS[name] ?? []) expect(run.stdout, `${name} --help names the CSV column ${column}`).toContain(column);
  });

  it.each([
    ['analyze', 'analyze'], ['match', 'match'], ['bench', 'bench'], ['eval verify', 'eval'], ['eval replay-attack', 'eval replay-attack'],
  ])('%s with an unknown flag exits 2 naming the command and the flag', (command, named) => {
    const run = regterm(...command.split(' '), '--no-such-flag');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${named}: Unknown option '--no-such-flag'`);
  });

  it('an unknown command exits 2 with the command list', () => {
    const run = regterm('register-everyone');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/unknown command 'register-everyone'/);
  });
});
