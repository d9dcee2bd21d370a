import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clockSync } from '../../../src/device/clock-sync.ts';

const dir = mkdtempSync(join(tmpdir(), 'regterm-clock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in timedatectl that prints `answer` (or fails). */
function timedatectl(name: string, script: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('clock synchronisation', () => {
  it('believes timedatectl (the kernel sync flag) when it answers', async () => {
    expect(await clockSync({ timedatectl: timedatectl('yes', 'echo yes') })).toBe('synchronized');
    expect(await clockSync({ timedatectl: timedatectl('no', 'echo no') })).toBe('unsynchronized');
  });

  it('falls back to timesyncd\'s flag file when timedatectl cannot answer (no D-Bus, not installed)', async () => {
    const broken = timedatectl('broken', 'echo "Failed to connect to bus" >&2; exit 1');
    const run = join(dir, 'timesync');
    mkdirSync(run);
    const flag = join(run, 'synchronized');
    expect(await clockSync({ timedatectl: broken, flagFile: flag })).toBe('unsynchronized');
    writeFileSync(flag, '');
    expect(await clockSync({ timedatectl: broken, flagFile: flag })).toBe('synchronized');
    expect(await clockSync({ timedatectl: join(dir, 'absent'), flagFile: join(dir, 'no-timesyncd', 'synchronized') })).toBe('unknown');
  });

  it('a clock earlier than the release is never synchronised', async () => {
    expect(await clockSync({ timedatectl: timedatectl('yes2', 'echo yes'), notBeforeMs: Date.parse('2026-01-01'), now: () => Date.parse('1970-01-02') }))
      .toBe('unsynchronized');
  });
});
