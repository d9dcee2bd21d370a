import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { verifyResult } from '../../../src/carrier/jws.ts';
import { readPublicKey } from '../../../src/carrier/keys.ts';
import type { ResultPayload } from '../../../src/carrier/protocol.ts';
import { extractJpegFrame } from '../../../src/compose/demo/reference-frame.ts';
import { describeWithFaceData, faceDataRoot } from '../../face-data.ts';
import { SESSION_REASONS } from '../../../src/session/decision.ts';
import { REFERENCE_PHOTO } from '../../../src/session/reference-intake.ts';
import { recordAttack } from '../../attacks/table.ts';
import { CORRUPT_JPEG, gradientPng } from '../../fixtures/vision/generated.ts';
import { bombPng, otherFormat, svgPhoto } from '../../fixtures/vision/hostile-photos.ts';
import { until, type AgentProcess } from './agent-process.ts';
import { AgentRig, CLIP } from './agent-rig.ts';

/**
 * Hostile reference photos (issue 16) through the real agent process: mosquitto with TLS client certificates, the
 * replay camera, carrier-signed requests. Each photo must end in exactly one signed result with a reason from the
 * fixed vocabulary, and the agent's peak RSS while handling it (VmHWM, reset through /proc/<pid>/clear_refs before
 * each request) must stay within 64 MB of its peak during a legitimate session on a real photo. Afterwards the agent
 * still serves a valid session.
 */
const DATA = faceDataRoot();
const LEGIT = join(DATA, 'face_recognition_examples', 'images', 'barack_obama', 'obama.jpg');
const DEVICE = 'term-photo';
const HEADROOM_MB = 64;
const POLICY = { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } };

type Photo = { attack: string; make: () => Promise<Uint8Array>; format: 'jpeg' | 'png'; reason: string };
const { maxSide, maxPixels } = REFERENCE_PHOTO.limits;
const JPEG_SIDE = Math.floor(Math.sqrt(maxPixels));
const PHOTOS: Photo[] = [
  { attack: 'PNG 40000x1000', make: async () => bombPng(40_000, 1000), format: 'png', reason: 'reference_too_large' },
  { attack: 'PNG 10000000x4', make: async () => bombPng(10_000_000, 4), format: 'png', reason: 'reference_too_large' },
  { attack: 'PNG 20000x2000', make: async () => bombPng(20_000, 2000), format: 'png', reason: 'reference_too_large' },
  { attack: 'PNG 6300x6300', make: async () => bombPng(6300, 6300), format: 'png', reason: 'reference_too_large' },
  { attack: 'SVG 6000x6000 declared png', make: async () => svgPhoto(6000, 6000), format: 'png', reason: 'unsupported_image' },
  { attack: 'GIF declared jpeg', make: async () => otherFormat('gif'), format: 'jpeg', reason: 'unsupported_image' },
  { attack: 'WebP declared jpeg', make: async () => otherFormat('webp'), format: 'jpeg', reason: 'unsupported_image' },
  { attack: 'TIFF declared jpeg', make: async () => otherFormat('tiff'), format: 'jpeg', reason: 'unsupported_image' },
  { attack: 'PNG declared jpeg', make: async () => gradientPng(), format: 'jpeg', reason: 'reference_format_mismatch' },
  { attack: 'JPEG header, text body', make: async () => CORRUPT_JPEG, format: 'jpeg', reason: 'reference_unreadable' },
  // the costliest photos still accepted: the longest side and the pixel budget; a progressive JPEG (its decoder
  // holds every coefficient) without chroma subsampling, rotated by EXIF
  {
    attack: `PNG ${maxSide}x${Math.floor(maxPixels / maxSide)} (largest accepted, blank)`,
    make: async () => bombPng(maxSide, Math.floor(maxPixels / maxSide)), format: 'png', reason: 'reference_unusable',
  },
  {
    attack: `progressive 4:4:4 JPEG ${JPEG_SIDE}x${JPEG_SIDE}, EXIF rotated (largest accepted)`,
    make: async () => sharp({ create: { width: JPEG_SIDE, height: JPEG_SIDE, channels: 3, background: '#808080' } })
      .jpeg({ progressive: true, chromaSubsampling: '4:4:4' }).withMetadata({ orientation: 6 }).toBuffer(),
    format: 'jpeg', reason: 'reference_unusable',
  },
];

/** Peak resident set of a process since its last reset, MB. */
function peakRssMb(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

/** Reset the process's peak resident set to its current one (proc(5): clear_refs, value 5). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

describeWithFaceData('hostile reference photos through the agent', ['face_recognition_examples/images/barack_obama/obama.jpg', 'liveportrait_driving_videos/d3.mp4'], () => {
  const rig = new AgentRig({ deviceId: DEVICE,
    config: () => ({ log: undefined, mqtt: { reconnectMinMs: 200, reconnectMaxMs: 2000 }, telemetry: undefined }) });
  const { topics } = rig;
  let carrier: AgentRig['carrier'];
  let devicePub: ReturnType<typeof readPublicKey>;
  let agentCount = 0;

  beforeAll(async () => {
    await rig.start();
    carrier = rig.carrier;
    devicePub = readPublicKey(rig.devicePublicKeyFile);
  }, 60_000);

  afterAll(() => rig.close());

  /** A fresh agent process (its replay camera at the clip's first frame), once it is subscribed. */
  async function startAgent(): Promise<AgentProcess> {
    const onlineBefore = carrier.messages.filter((m) => m.topic === topics.status && m.payload.includes('"online"')).length;
    const notify = rig.notifySocket(`notify-${agentCount++}`);
    const agent = rig.spawnAgent({ NOTIFY_SOCKET: notify.path });
    await until(() => notify.states.includes('READY=1'), 90_000, `READY=1 (stderr: ${agent.stderr})`);
    // the link publishes `online` after its subscriptions: from then on a request reaches it
    await carrier.until(() => carrier.messages.filter((m) => m.topic === topics.status && m.payload.includes('"online"')).length > onlineBefore,
      10_000, 'online');
    return agent;
  }

  /** Send one signed request; resolve with its verified results (read later too) and the agent's peak RSS meanwhile. */
  async function session(agent: AgentProcess, reference: Uint8Array, format: 'jpeg' | 'png', timeoutMs: number) {
    const request = buildSessionRequest({ deviceId: DEVICE, reference: { format, data: reference }, ttlS: 300, policy: POLICY });
    const jws = await rig.sign(request);
    resetPeak(agent.pid);
    await carrier.publish(topics.request, jws);
    await carrier.until(() => carrier.results.has(request.sessionId), timeoutMs, `the result of ${request.sessionId}`);
    const peakMb = peakRssMb(agent.pid);
    const results = async (): Promise<ResultPayload[]> =>
      Promise.all((carrier.results.get(request.sessionId) ?? []).map(async (j) => (await verifyResult(j, devicePub)).payload));
    return { results, peakMb };
  }

  it('answers each with one signed result from the vocabulary, within 64 MB of a legitimate session\'s peak, and serves on', async () => {
    // The legitimate peak: a fresh agent, one full session on a real photo (another person than the clip's, so it
    // ends in a verdict). The clip is then used up, so the attacks go to a second, equally fresh agent.
    const first = await startAgent();
    const legit = await session(first, new Uint8Array(readFileSync(LEGIT)), 'jpeg', 150_000);
    const [legitResult] = await legit.results();
    expect(legitResult.decision).not.toBe('error');
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    const budgetMb = legit.peakMb + HEADROOM_MB;
    console.log(`legitimate session (${LEGIT.slice(DATA.length + 1)}): ${legitResult.decision}, peak RSS ${legit.peakMb.toFixed(0)} MB`);

    const agent = await startAgent();
    const answered: Array<{ p: Photo; results: () => Promise<ResultPayload[]> }> = [];
    for (const p of PHOTOS) {
      const bytes = await p.make();
      const { results, peakMb } = await session(agent, bytes, p.format, 30_000);
      const [result] = await results();
      const expected = `signed error/${p.reason}, peak <= legit+${HEADROOM_MB} MB`;
      const observed = `signed ${result.decision}/${result.reason ?? '-'}, peak ${peakMb <= budgetMb ? '<=' : '>'} legit+${HEADROOM_MB} MB`;
      const size = `${(bytes.length / 1024).toFixed(1)} KB`;
      console.log(`${p.attack} (${size}): ${result.decision}/${result.reason ?? '-'}, peak RSS ${peakMb.toFixed(0)} MB (legitimate ${legit.peakMb.toFixed(0)})`);
      recordAttack({ area: 'reference photo', attack: `${p.attack} (${size})`, expected, observed });
      expect(result, p.attack).toMatchObject({ decision: 'error', decidedBy: 'reference', reason: p.reason });
      expect(SESSION_REASONS).toContain(result.reason);
      expect(peakMb, p.attack).toBeLessThanOrEqual(budgetMb);
      answered.push({ p, results });
    }

    const valid = await session(agent, await extractJpegFrame(CLIP, 10.5), 'jpeg', 150_000);
    expect((await valid.results()).map((r) => r.decision)).toEqual(['match']);
    // exactly one result each (results are acknowledged: a second copy would be a second outcome)
    for (const { p, results } of answered) expect(await results(), p.attack).toHaveLength(1);
    expect(agent.child.exitCode).toBeNull();
    // nothing was an exception: every refusal is an outcome
    expect(agent.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    const refusals = agent.lines.filter((l) => l.msg === 'reference photo refused');
    expect(refusals).toHaveLength(PHOTOS.length);
    for (const l of refusals) expect(String(l.message ?? '').length).toBeLessThanOrEqual(200);
  }, 600_000);
});
