import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runUntilStopped, type Stoppable } from '../../../src/compose/lifecycle.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { CanceledError, EXIT, RegtermError } from '../../../src/lib/errors.ts';

function sink() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  return { lines, logger: createLogger({ level: 'info', destination: stream }) };
}

class FakeAgent implements Stoppable {
  stops: string[] = [];
  stopCode = 0;
  constructor(private readonly startImpl: () => Promise<void> = async () => {}) {}
  start(): Promise<void> {
    return this.startImpl();
  }
  stop(reason: string): Promise<number> {
    this.stops.push(reason);
    return Promise.resolve(this.stopCode);
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('runUntilStopped', () => {
  it('stops once on SIGTERM (a second signal starts no second stop), exits 0 and removes its listeners', async () => {
    const proc = new EventEmitter();
    const agent = new FakeAgent();
    const { logger } = sink();
    let stoppedWith: number | undefined;
    const done = runUntilStopped(agent, { proc, logger, onStopped: (c) => { stoppedWith = c; } });
    await tick();
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    proc.emit('SIGTERM', 'SIGTERM');
    proc.emit('SIGINT', 'SIGINT');
    expect(await done).toBe(EXIT.ok);
    expect(agent.stops).toEqual(['SIGTERM']);
    expect(stoppedWith).toBe(0);
    for (const e of ['SIGTERM', 'SIGINT', 'uncaughtException', 'unhandledRejection']) expect(proc.listenerCount(e)).toBe(0);
  });

  it('passes a failing component stop through as the exit code', async () => {
    const proc = new EventEmitter();
    const agent = new FakeAgent();
    agent.stopCode = 1;
    const done = runUntilStopped(agent, { proc, logger: sink().logger });
    proc.emit('SIGINT', 'SIGINT');
    expect(await done).toBe(1);
  });

  it('logs an unhandled rejection at fatal with the error, stops, and exits non-zero', async () => {
    const proc = new EventEmitter();
    const agent = new FakeAgent();
    const { lines, logger } = sink();
    const done = runUntilStopped(agent, { proc, logger });
    proc.emit('unhandledRejection', new Error('boom in a timer'));
    expect(await done).toBe(EXIT.failure);
    expect(agent.stops).toEqual(['unhandled rejection']);
    const fatal = lines.find((l) => l.level === 60);
    expect(fatal?.msg).toBe('unhandled rejection: boom in a timer');
    expect((fatal?.err as { stack?: string }).stack).toMatch(/boom in a timer/);
  });

  it('a failed start stops what started and exits with the error\'s code', async () => {
    const proc = new EventEmitter();
    const agent = new FakeAgent(async () => { throw new RegtermError('camera /dev/video0 cannot be opened', EXIT.camera); });
    const { lines, logger } = sink();
    expect(await runUntilStopped(agent, { proc, logger })).toBe(EXIT.camera);
    expect(agent.stops).toEqual(['start failed']);
    expect(lines.some((l) => l.msg === 'start failed: camera /dev/video0 cannot be opened')).toBe(true);
  });

  it('a signal during start is a clean stop, not a start failure', async () => {
    const proc = new EventEmitter();
    let rejectStart!: (e: unknown) => void;
    const agent = new FakeAgent(() => new Promise<void>((_, reject) => { rejectStart = reject; }));
    const done = runUntilStopped(agent, { proc, logger: sink().logger });
    proc.emit('SIGTERM', 'SIGTERM');
    rejectStart(new CanceledError('start aborted'));
    expect(await done).toBe(EXIT.ok);
  });
});
