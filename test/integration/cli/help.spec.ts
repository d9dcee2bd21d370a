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
