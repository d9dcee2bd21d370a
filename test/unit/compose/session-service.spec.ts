import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ResultDecision, SessionRequest } from '../../../src/carrier/protocol.ts';
import type { OutboxEntry } from '../../../src/carrier/store.ts';
import { SessionService, type SessionRunnerPort } from '../../../src/compose/session-service.ts';
import type { SessionRequestInput } from '../../../src/session/runner.ts';
import { createLogger } from '../../../src/lib/logger.ts';

const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

function request(sessionId: string): SessionRequest {
  return {
    v: 1, deviceId: 'd1', sessionId, nonce: 'n'.repeat(20), issuedAt: '2026-01-01T00:00:00Z', expiresAt: '2026-01-01T00:05:00Z',
    reference: { format: 'jpeg', data: Buffer.from('not really a jpeg').toString('base64') }, policy: { count: 1 },
  };
}

function decision(sessionId: string, d: ResultDecision['decision']): ResultDecision {
  return { sessionId, nonce: 'n'.repeat(20), decision: d, decidedBy: 'test', scores: {}, thresholds: {}, challenges: [],
    startedAt: '2026-01-01T00:00:01Z', finishedAt: '2026-01-01T00:00:02Z' };
}

/** A runner that decides when the test says so, or `cancelled` on abort, and records what it was given. */
class ScriptedRunner implements SessionRunnerPort {
  readonly inputs: SessionRequestInput[] = [];
  readonly verdicts: string[] = [];
  private finish?: (d: ResultDecision['decision']) => void;

  run(req: SessionRequestInput, signal: AbortSignal): Promise<ResultDecision> {
    this.inputs.push(req);
    return new Promise((resolve) => {
      const end = (d: ResultDecision['decision']) => resolve(decision(req.sessionId, d));
      this.finish = end;
      signal.addEventListener('abort', () => end('cancelled'), { once: true });
    });
  }
  decide(d: ResultDecision['decision']): void {
    this.finish?.(d);
  }
  showVerdict(d: ResultDecision): void {
    this.verdicts.push(`${d.sessionId}:${d.decision}`);
  }
}

class FakeLink {
  listener?: (r: SessionRequest) => void;
  readonly order: string[] = [];
  failCommit = false;
  attempts = 0;
  onSessionRequest(l: (r: SessionRequest) => void) {
    this.listener = l;
    return () => { this.listener = undefined; };
  }
  async submitResult(d: ResultDecision): Promise<OutboxEntry> {
    this.attempts++;
    if (this.failCommit) throw new Error('disk full');
    this.order.push(`commit ${d.sessionId}:${d.decision}`);
    return { sessionId: d.sessionId, seq: 1, jws: 'x', createdAt: 0 } as unknown as OutboxEntry;
  }
}

async function started(commitRetryMs?: number) {
  const runner = new ScriptedRunner();
  const link = new FakeLink();
  const decided: string[] = [];
  const service = new SessionService({ runner, link, logger: quiet, onDecided: (d, committed) => decided.push(`${d.decision}:${committed}`), commitRetryMs });
  await service.start(new AbortController().signal);
  return { runner, link, service, decided };
}

describe('SessionService', () => {
  it('commits the result before the verdict is shown, and zeroes the decoded reference', async () => {
    const { runner, link, service, decided } = await started();
    const origShow = runner.showVerdict.bind(runner);
    runner.showVerdict = (d) => { link.order.push(`verdict ${d.sessionId}`); origShow(d); };
    link.listener!(request('s1'));
    expect(service.busy).toBe(true);
    expect(Buffer.from(runner.inputs[0]!.reference).toString()).toBe('not really a jpeg');
    expect(runner.inputs[0]!.policy).toEqual({ count: 1 });
    runner.decide('match');
    await service.idle();
    expect(link.order).toEqual(['commit s1:match', 'verdict s1']);
    expect(runner.inputs[0]!.reference.every((b) => b === 0)).toBe(true);
    expect(service.busy).toBe(false);
    expect(service.counts()).toEqual({ match: 1 });
    expect(decided).toEqual(['match:true']);
  });

  it('keeps a result that is not durable yet, retries the same decision, and shows the verdict only once committed', async () => {
    const { runner, link, service, decided } = await started(5);
    link.failCommit = true;
    link.listener!(request('s2'));
    runner.decide('no_match');
    await new Promise((r) => setTimeout(r, 40));
    expect(link.attempts).toBeGreaterThan(2);
    expect(runner.verdicts).toEqual([]);
    expect(service.busy).toBe(true);
    link.failCommit = false;
    await service.idle();
    expect(link.order).toEqual(['commit s2:no_match']);
    expect(runner.verdicts).toEqual(['s2:no_match']);
    expect(decided).toEqual(['no_match:true']);
  });

  it('is the one busy guard: a request while a session runs never reaches the runner', async () => {
    const { runner, link, service } = await started();
    link.listener!(request('s6'));
    link.listener!(request('s7'));
    expect(service.busy).toBe(true);
    expect(runner.inputs.map((r) => r.sessionId)).toEqual(['s6']);
    runner.decide('match');
    await service.idle();
    expect(service.busy).toBe(false);
    expect(link.order).toEqual(['commit s6:match']);
  });

  it('gives a never-durable result up at stop, without a verdict', async () => {
    const { runner, link, service, decided } = await started(5);
    link.failCommit = true;
    link.listener!(request('s4'));
    runner.decide('match');
    await new Promise((r) => setTimeout(r, 20));
    await service.stop();
    expect(runner.verdicts).toEqual([]);
    expect(decided).toEqual(['match:false']);
    expect(service.busy).toBe(false);
  });

  it('a runner that throws still leaves its accepted session with one answer: error/internal_error', async () => {
    const { runner, link, service } = await started();
    runner.run = async () => { throw new Error('bug'); };
    link.listener!(request('s5'));
    await service.idle();
    expect(link.order).toEqual(['commit s5:error']);
    expect(runner.verdicts).toEqual(['s5:error']);
  });

  it('stop() cancels the running session and returns only after its result is committed', async () => {
    const { link, service } = await started();
    link.listener!(request('s3'));
    await service.stop();
    expect(link.order).toEqual(['commit s3:cancelled']);
    expect(link.listener).toBeUndefined();
    expect(service.busy).toBe(false);
  });
});
