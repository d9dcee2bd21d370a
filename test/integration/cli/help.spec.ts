import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../src/cli/commands.ts';

const BIN = new URL('../../../bin/regterm.js', import.meta.url).pathname;
const regterm = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('regterm --help', () => {
  it('lists every command', () => {
    const run = regterm('--help');
    expect(run.status).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(run.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it.each(Object.keys(COMMANDS))('%s --help prints its usage and exits 0', (name) => {
    const run = regterm(name, '--help');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/usage/i);
  });

  it('an unknown command exits 2 with the command list', () => {
    const run = regterm('register-everyone');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/unknown command 'register-everyone'/);
  });
});
