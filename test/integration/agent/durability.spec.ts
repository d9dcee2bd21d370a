import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithFaceData } from '../../face-data.ts';
import type { ResultPayload } from '../../../src/carrier/protocol.ts';
import { recordAttack } from '../../attacks/table.ts';
import type { AgentProcess } from './agent-process.ts';
import { AgentRig } from './agent-rig.ts';

/**
 * Crash safety of the real agent (bin/regterm.js through tsx) against mosquitto with TLS client certificates and the
 * replay camera: SIGKILL (the agent's whole process group) at every step of a session, 20 kills in all, the agent
 * restarted after every kill. The carrier stand-in counts the results per session: every accepted session
 * ends with at least one result, all copies byte-identical (so exactly one verdict per session id); a session killed
 * before its decision is `interrupted` (decidedBy `restart`), one killed after publishing keeps its verdict.
 * Afterwards every file in the state directory is 0600.
 *
 * rerun: REGTERM_FACE_DATA=/path/to/data npx vitest run test/integration/agent/durability.spec.ts
 */
const STEPS = ['accepted', 'reference', 'challenge', 'decided', 'published'] as const;
type Step = (typeof STEPS)[number];
/** 20 kills; the late steps cost a whole session each, so they get fewer (KILLS_PER_STEP=n for n at every step) */
const KILLS: Record<Step, number> = process.env.KILLS_PER_STEP
  ? Object.fromEntries(STEPS.map((s) => [s, Number(process.env.KILLS_PER_STEP)])) as Record<Step, number>
  : { accepted: 5, reference: 5, challenge: 4, decided: 3, published: 3 };
const TOTAL_KILLS = STEPS.reduce((n, s) => n + KILLS[s], 0);
const stepOf = (sessionId: string) => sessionId.split('-').at(-1) as Step;

// the carrier loses the first ack of a session killed after publishing: the restarted agent must resend it
const rig = new AgentRig({ deviceId: 'term-crash',
  carrier: { autoAck: true, shouldAck: (sessionId, copies) => stepOf(sessionId) !== 'published' || copies > 1 } });
const carrier = () => rig.carrier;
let agent: AgentProcess | undefined;

beforeAll(() => rig.start());
afterAll(() => rig.close());

/** Resolves when the session reached `step`, as seen from outside: the agent's log or the carrier's messages. */
function reached(a: AgentProcess, sessionId: string, step: Step): Promise<void> {
  const progress = (event: string, from?: string) => () => carrier().messages.some((m) => {
    if (m.topic !== rig.topics.progress(sessionId)) return false;
    const p = JSON.parse(m.payload) as { event: string; detail?: { from?: string } };
    return p.event === event && (from === undefined || p.detail?.from === from);
  });
  const logged = (msg: string) => new Promise<void>((resolve) => {
    a.onLine = (l) => { if (l.msg === msg && l.sessionId === sessionId) resolve(); };
  });
  switch (step) {
    case 'accepted': return logged('session request accepted');
    case 'reference': return carrier().until(progress('state', 'reference'), 60_000, 'reference decoded');
    case 'challenge': return carrier().until(progress('challenge_started'), 60_000, 'a challenge');
    case 'decided': return logged('session decided');
    case 'published': return carrier().until(() => carrier().results.has(sessionId), 60_000, 'the result');
  }
}

describeWithFaceData('crash safety: SIGKILL at every step of a session (real agent, mosquitto TLS, replay camera)', ['liveportrait_driving_videos/d3.mp4'], () => {
  it(`every accepted session ends with one verdict, delivered byte-identically (${TOTAL_KILLS} kills)`, async () => {
    const t0 = Date.now();
    const sessions: Array<{ sessionId: string; nonce: string }> = [];
    const startMs: number[] = [];
    const restart = async () => {
      const t = Date.now();
      agent = await rig.startAgent();
      startMs.push(Date.now() - t);
      return agent;
    };
    agent = await restart();
    const startup = agent.lines.filter((l) => l.msg === 'started').map((l) => `${String(l.component)} ${String(l.ms)} ms`).join(', ');
    for (let k = 0; k < Math.max(...Object.values(KILLS)); k++) {
      for (const step of STEPS.filter((s) => k < KILLS[s])) {
        const { request, send } = await rig.request(`k${k}-${step}`);
        sessions.push({ sessionId: request.sessionId, nonce: request.nonce });
        const at = reached(agent, request.sessionId, step);
        await send();
        await at;
        agent.killGroup();
        expect((await agent.exited).signal).toBe('SIGKILL');
        agent = await restart();
      }
    }
    await carrier().until(() => sessions.every((s) => carrier().results.has(s.sessionId)), 60_000, 'a result for every session');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    const seconds = Math.round((Date.now() - t0) / 1000);

    const outcomes = new Map<Step, Map<string, number>>(STEPS.map((s) => [s, new Map()]));
    const verdicts: Array<{ sessionId: string; nonce: string; step: Step; copies: string[]; payload: ResultPayload }> = [];
    for (const { sessionId, nonce } of sessions) {
      const copies = carrier().results.get(sessionId)!;
      const payload = await rig.result(sessionId);
      const step = stepOf(sessionId);
      verdicts.push({ sessionId, nonce, step, copies, payload });
      const byDecision = outcomes.get(step)!;
      byDecision.set(payload.decision, (byDecision.get(payload.decision) ?? 0) + 1);
    }
    const asExpected = (v: (typeof verdicts)[number]) => new Set(v.copies).size === 1 && v.payload.nonce === v.nonce
      && (v.step === 'decided' ? true : v.step === 'published'
        ? v.payload.decision !== 'interrupted' && v.copies.length >= 2
        : v.payload.decision === 'interrupted' && v.payload.decidedBy === 'restart');
    const copies = verdicts.reduce((n, v) => n + v.copies.length, 0);
    const summary = STEPS.map((s) => `${s}: ${[...outcomes.get(s)!].map(([d, n]) => `${n} ${d}`).join(', ')}`).join('; ');
    const meanStart = Math.round(startMs.reduce((a, b) => a + b, 0) / startMs.length);
    console.log(`[durability] ${sessions.length} kills in ${seconds} s (agent start to connected: mean ${meanStart} ms; `
      + `first start: ${startup}), ${copies} results received for ${sessions.length} sessions; ${summary}`);
    const EXPECTED: Record<Step, string> = {
      accepted: 'signed interrupted, copies identical', reference: 'signed interrupted, copies identical',
      challenge: 'signed interrupted, copies identical', decided: 'one verdict, copies identical',
      published: 'same signed verdict resent',
    };
    for (const step of STEPS) {
      const ofStep = verdicts.filter((v) => v.step === step);
      const seen = [...outcomes.get(step)!].map(([d, n]) => `${n}× ${d}`).join(', ');
      recordAttack({ area: 'durability', attack: `SIGKILL after "${step}" ×${KILLS[step]}, restart`,
        expected: EXPECTED[step], observed: ofStep.every(asExpected) ? EXPECTED[step] : `${seen}; not all as expected` });
    }
    for (const v of verdicts) {
      expect(new Set(v.copies).size, `${v.sessionId}: every copy byte-identical`).toBe(1);
      expect(v.payload).toMatchObject({ sessionId: v.sessionId, nonce: v.nonce });
      if (v.step === 'accepted' || v.step === 'reference' || v.step === 'challenge') {
        expect(v.payload, v.sessionId).toMatchObject({ decision: 'interrupted', decidedBy: 'restart' });
      }
      if (v.step === 'published') {
        expect(v.payload.decision, v.sessionId).not.toBe('interrupted');
        expect(v.copies.length, `${v.sessionId} resent after the restart`).toBeGreaterThanOrEqual(2);
      }
    }

    // every file the agent wrote is private to it (the test process itself runs with a 022 umask)
    // (folders in it, such as the session traces, are 0700 and their files 0600)
    const modes: Record<string, string> = {};
    const walk = (dir: string, prefix: string): void => {
      for (const f of readdirSync(dir)) {
        const st = statSync(join(dir, f));
        modes[prefix + f] = (st.mode & 0o777).toString(8);
        if (st.isDirectory()) walk(join(dir, f), `${prefix}${f}/`);
      }
    };
    walk(rig.stateDir, '');
    const loose = Object.entries(modes).filter(([f, m]) => m !== (statSync(join(rig.stateDir, f)).isDirectory() ? '700' : '600'))
      .map(([f, m]) => `${f} ${m}`);
    recordAttack({ area: 'durability', attack: 'file modes in the state directory after sessions',
      expected: 'every file 0600', observed: loose.length ? loose.join(', ') : 'every file 0600' });
    expect(Object.keys(modes)).toEqual(expect.arrayContaining(['state.db', 'state.db.seq-floor', 'state.db.nonces']));
    expect(loose, JSON.stringify(modes)).toEqual([]);
    expect((statSync(rig.stateDir).mode & 0o777).toString(8)).toBe('700');
  }, 600_000);
});
