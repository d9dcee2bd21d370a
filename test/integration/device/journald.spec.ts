import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentity, PRIVATE_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { REGTERM } from '../agent/agent-process.ts';

/**
 * journald priorities, checked the way journald reads a service's stdout stream: a line that starts with `<N>`
 * (N = 0..7) is filed at priority N with the prefix stripped, any other line at the default (info). The child's
 * stdout is a real file whose device:inode is given in JOURNAL_STREAM, as systemd does for a journal stream.
 */
const LOGGER = join(import.meta.dirname, '..', '..', '..', 'src', 'lib', 'logger.ts');
const NO_CAMERA = join(import.meta.dirname, '..', '..', 'fixtures', 'rpicam', 'no-camera-rpicam-vid');

interface JournalEntry { priority: number; record: Record<string, unknown> }

/** What journald makes of a stdout stream (SyslogLevelPrefix=yes, the default). */
function readLikeJournald(text: string): JournalEntry[] {
  return text.split('\n').filter((l) => l.trim()).map((line) => {
    const prefix = /^<([0-7])>/.exec(line);
    const body = prefix ? line.slice(prefix[0].length) : line;
    return { priority: prefix ? Number(prefix[1]) : 6, record: JSON.parse(body) as Record<string, unknown> };
  });
}

function streamId(path: string): string {
  const st = statSync(path, { bigint: true });
  return `${st.dev}:${st.ino}`;
}

let dir = '';
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'regterm-journald-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

/** Runs `node args` with stdout going to `out`; resolves with what was written there. */
async function runTo(out: string, args: string[], env: NodeJS.ProcessEnv, untilMs?: number): Promise<string> {
  const fd = openSync(out, 'w');
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = untilMs ? setTimeout(() => child.kill('SIGTERM'), untilMs) : undefined;
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  expect(code, stderr).toBe(0);
  return readFileSync(out, 'utf8');
}

const LOG_EVERY_LEVEL = `
import { createLogger } from ${JSON.stringify(LOGGER)};
const log = createLogger({ level: 'trace' });
for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) log[level]({ lvl: level }, level + ' line');
`;

describe('log lines carry their journald priority', () => {
  it('prefixes every line with its syslog priority when stdout is the journal stream', async () => {
    const script = join(dir, 'every-level.mts');
    writeFileSync(script, LOG_EVERY_LEVEL);
    const out = join(dir, 'journal-stream.log');
    writeFileSync(out, '');
    const text = await runTo(out, ['--import', 'tsx', script], { JOURNAL_STREAM: streamId(out) });
    const entries = readLikeJournald(text);
    expect(entries.map((e) => [e.record.lvl, e.priority])).toEqual([
      ['trace', 7], ['debug', 7], ['info', 6], ['warn', 4], ['error', 3], ['fatal', 2],
    ]);
    // `journalctl -p err` shows priorities 0..3: the error and fatal lines only.
    expect(entries.filter((e) => e.priority <= 3).map((e) => e.record.msg)).toEqual(['error line', 'fatal line']);
  });

  it('writes plain JSON when stdout is not the journal stream (a terminal, a pipe, another file)', async () => {
    const script = join(dir, 'every-level.mts');
    const other = join(dir, 'other.log');
    writeFileSync(other, '');
    const out = join(dir, 'plain.log');
    const text = await runTo(out, ['--import', 'tsx', script], { JOURNAL_STREAM: streamId(other) });
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line.startsWith('{"level":')).toBe(true);
  });

  it('the agent under systemd: every line of `regterm run` is filed at its own priority', async () => {
    const identityDir = join(dir, 'identity');
    await createIdentity(identityDir);
    mkdirSync(join(dir, 'carrier-keys'));
    const carrier = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'carrier-keys', 'carrier.pem'), carrier.publicKey.export({ format: 'pem', type: 'spki' }));
    const config = join(dir, 'config.json');
    // No camera and no broker: the agent keeps running and logs warnings about both.
    writeFileSync(config, JSON.stringify({
      deviceId: 'term-journald', stateDir: join(dir, 'state'), log: { level: 'debug' },
      camera: { backend: 'rpicam', rpicamBin: NO_CAMERA }, panel: { backend: 'sim' },
      mqtt: { url: 'mqtt://127.0.0.1:1' }, carrier: { keysDir: join(dir, 'carrier-keys') },
      identity: { signingKeyFile: join(identityDir, PRIVATE_KEY_FILE) },
    }));
    const out = join(dir, 'agent.log');
    writeFileSync(out, '');
    const text = await runTo(out, [REGTERM, 'run', '--config', config], { JOURNAL_STREAM: streamId(out) }, 6000);
    const entries = readLikeJournald(text);
    expect(entries.some((e) => e.record.msg === 'agent running')).toBe(true);
    const expected = (level: number): number => (level >= 60 ? 2 : level >= 50 ? 3 : level >= 40 ? 4 : level >= 30 ? 6 : 7);
    for (const e of entries) expect(e.priority, JSON.stringify(e.record)).toBe(expected(Number(e.record.level)));
    const warnings = entries.filter((e) => e.priority === 4);
    expect(warnings.some((e) => e.record.component === 'camera')).toBe(true);
    expect(warnings.some((e) => e.record.component === 'carrier-link')).toBe(true);
  });
});
