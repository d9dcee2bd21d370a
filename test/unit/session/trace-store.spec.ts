import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TraceStore } from '../../../src/session/trace-store.ts';
import { sampleTrace } from '../../fixtures/session/trace.ts';

let stateDir = '';
beforeEach(() => { stateDir = mkdtempSync(join(tmpdir(), 'regterm-traces-')); });
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

const trace = (sessionId: string) => ({ ...sampleTrace(), sessionId });

describe('session trace store', () => {
  it('saves a trace 0600 in a 0700 folder and loads it back unchanged', () => {
    const store = new TraceStore(stateDir, { keepSessions: 10, keepDays: 14, maxTotalBytes: 1e7 });
    store.save(trace('s-1'));
    expect(store.load('s-1')).toEqual(trace('s-1'));
    expect(statSync(join(stateDir, 'traces', 's-1.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, 'traces')).mode & 0o777).toBe(0o700);
    expect(store.load('unknown')).toBeUndefined();
    expect(store.load('../etc/passwd')).toBeUndefined();
    expect(() => store.save(trace('../escape'))).toThrow(RangeError);
  });

  it('keeps at most keepSessions, none older than keepDays, and stays under maxTotalBytes (oldest go first)', () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    const store = new TraceStore(stateDir, { keepSessions: 3, keepDays: 2, maxTotalBytes: 1e7 }, () => now);
    for (let i = 1; i <= 5; i++) {
      store.save(trace(`s-${i}`));
      const t = new Date(now + i * 1000);
      utimesSync(join(stateDir, 'traces', `s-${i}.json`), t, t);
    }
    store.save(trace('s-6'));
    utimesSync(join(stateDir, 'traces', 's-6.json'), new Date(now + 6000), new Date(now + 6000));
    expect(store.list().map((e) => e.sessionId)).toEqual(['s-6', 's-5', 's-4']);

    // three days later: everything saved before is older than keepDays
    now += 3 * 86_400_000;
    store.save(trace('s-7'));
    expect(readdirSync(join(stateDir, 'traces'))).toEqual(['s-7.json']);

    const one = store.list()[0].bytes;
    const small = new TraceStore(stateDir, { keepSessions: 100, keepDays: 30, maxTotalBytes: one * 2.5 }, () => now);
    small.save(trace('s-8'));
    small.save(trace('s-9'));
    expect(small.list().map((e) => e.sessionId).sort()).toEqual(['s-8', 's-9']);
  });
});
