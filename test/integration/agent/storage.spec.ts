import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeWithFaceData } from '../../face-data.ts';
import { INVALID_SESSION } from '../../../src/carrier/protocol.ts';
import { recordAttack } from '../../attacks/table.ts';
import { until, type AgentProcess } from './agent-process.ts';
import { AgentRig } from './agent-rig.ts';

/**
 * A full disk, on a real small file system: the agent's state directory lives on a 4 MB tmpfs mounted for this test
 * (needs root, as the project's test machines run), filled with one file until ENOSPC and freed by deleting it.
 * The real agent, mosquitto with TLS client certificates and the replay camera, as in production.
 * - a valid request while the disk is full gets a signed `rejected` / `storage_full` (on `_invalid`: its nonce could
 *   not be claimed, so it is no session's verdict; docs/reliability.md);
 * - a disk that fills mid-session does not lose the decided result: it stays signed in memory, is retried, and is
 *   published (verdict shown) once the disk has room again;
 * - an agent started on a full disk runs, refuses sessions with `storage_full`, and serves again once space returns.
 */
const MNT = mkdtempSync(join(tmpdir(), 'regterm-tmpfs-'));
const FILL = join(MNT, 'fill');
const rig = new AgentRig({ deviceId: 'term-full', stateDir: join(MNT, 'state') });
let agent: AgentProcess | undefined;

beforeAll(async () => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', MNT]);
  await rig.start();
});

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail' && agent) {
    console.log(agent.lines.filter((l) => (l.level as number) >= 40 || String(l.msg).includes('request')).map((l) => JSON.stringify(l)).join('\n'), agent.stderr);
  }
});

afterAll(async () => {
  try {
    await rig.close();
  } finally {
    execFileSync('umount', ['--lazy', MNT]);
    rmSync(MNT, { recursive: true, force: true });
  }
});

/** Writes one file until the file system has no block left. */
function fillDisk(): void {
  const fd = openSync(FILL, 'w');
  try {
    for (const size of [1 << 16, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0x55);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (e: unknown) {
        if ((e as { code?: string }).code !== 'ENOSPC') throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
}

const freeDisk = () => unlinkSync(FILL);
const logged = (a: AgentProcess, msg: string, sessionId?: string) =>
  a.lines.some((l) => l.msg === msg && (sessionId === undefined || l.sessionId === sessionId));

const describeAnswer = (p: { decision: string; reason?: string }) =>
  p.decision === 'rejected' ? `signed rejected/${p.reason}` : `signed ${p.decision}`;

/**
 * The answer to a request whose nonce could not be claimed: on INVALID_SESSION, since a request whose claims failed is
 * no session's verdict (and never on the request's own session level).
 */
async function refusal(sessionId: string): Promise<string> {
  const answers = () => rig.carrier.results.get(INVALID_SESSION)?.length ?? 0;
  const before = answers();
  await (await rig.request(sessionId)).send();
  await rig.carrier.until(() => answers() > before, 60_000, `the answer to ${sessionId}`);
  expect(rig.carrier.results.has(sessionId)).toBe(false);
  return describeAnswer(await rig.result(INVALID_SESSION, before));
}

async function verdict(sessionId: string): Promise<string> {
  await rig.carrier.until(() => rig.carrier.results.has(sessionId), 60_000, `a result for ${sessionId}`);
  return describeAnswer(await rig.result(sessionId));
}

describeWithFaceData('full disk (tmpfs state directory, real agent)', ['liveportrait_driving_videos/d3.mp4'], () => {
  it('refuses requests with storage_full while full, keeps a result decided on a full disk until it can be committed', async () => {
    agent = await rig.startAgent();

    fillDisk();
    const whileFull = await refusal('full-1');
    recordAttack({ area: 'durability', attack: 'valid request while the disk is full', expected: 'signed rejected/storage_full', observed: whileFull });
    expect(whileFull).toBe('signed rejected/storage_full');
    freeDisk();

    const decided = await rig.request('full-2');
    await decided.send();
    await rig.carrier.until(() => rig.carrier.messages.some((m) => m.topic === rig.topics.progress('full-2')
      && m.payload.includes('"challenge_started"')), 60_000, 'the challenge');
    fillDisk();
    await until(() => logged(agent!, 'session decided', 'full-2'), 60_000, 'the decision');
    await until(() => agent!.lines.some((l) => String(l.msg).startsWith('result not durable yet')), 10_000, 'the failed commit');
    // retried while full (every 2 s) and neither published nor shown
    await new Promise((r) => setTimeout(r, 3000));
    expect(rig.carrier.results.has('full-2')).toBe(false);
    expect(logged(agent, 'session ended', 'full-2')).toBe(false);
    freeDisk();
    const afterSpace = await verdict('full-2');
    recordAttack({ area: 'durability', attack: 'disk fills mid-session, freed after the decision', expected: 'signed match after space returns', observed: `${afterSpace} after space returns` });
    expect(afterSpace).toBe('signed match');
    expect(agent.lines.find((l) => l.msg === 'session ended' && l.sessionId === 'full-2')).toMatchObject({ committed: true });
    expect(logged(agent, 'result committed after retries; verdict shown', 'full-2')).toBe(true);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
  }, 180_000);

  it('starts on a full disk: runs, refuses sessions with storage_full, and serves again when space returns', async () => {
    fillDisk();
    agent = await rig.startAgent();
    // the cleanly stopped database has no -wal/-shm left, and they cannot be created: the database does not open
    expect(logged(agent, 'state database unavailable: sessions are refused (storage_full) until it opens')).toBe(true);
    const atStart = await refusal('full-3');
    recordAttack({ area: 'durability', attack: 'agent started on a full disk, valid request', expected: 'runs; signed rejected/storage_full', observed: `${agent.child.exitCode === null ? 'runs' : 'exited'}; ${atStart}` });
    expect(atStart).toBe('signed rejected/storage_full');
    // the retained status and telemetry say why
    const says = (topic: string, reasons: (p: Record<string, unknown>) => unknown) => rig.carrier.messages.some((m) =>
      m.topic === topic && ((reasons(JSON.parse(m.payload) as Record<string, unknown>) as string[] | undefined) ?? []).includes('storage_full'));
    await rig.carrier.until(() => says(rig.topics.status, (p) => p.reasons), 15_000, 'a degraded status with storage_full');
    await rig.carrier.until(() => says(rig.topics.telemetry, (p) => (p.condition as { degraded?: string[] } | null)?.degraded),
      15_000, 'telemetry to report storage_full');

    freeDisk();
    await new Promise((r) => setTimeout(r, 1200));
    const served = await rig.request('full-4');
    await served.send();
    const recovered = await verdict('full-4');
    recordAttack({ area: 'durability', attack: 'space freed after a start on a full disk', expected: 'signed match', observed: recovered });
    expect(recovered).toBe('signed match');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
  }, 180_000);
});
