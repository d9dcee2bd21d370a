import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { compactVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseVersion } from '../../../src/app-root.ts';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { UPDATE_REQUEST_TYP, signJson } from '../../../src/carrier/jws.ts';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { Topics, updateReportSchema, type UpdateReport } from '../../../src/carrier/protocol.ts';
import { DEMO_CLIP, DEMO_REFERENCE } from '../../../src/compose/demo/asset.ts';
import { createIdentity, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { PATHS } from '../../../src/device/provision/layout.ts';
import { applyRelease, currentVersion } from '../../../src/device/update/install.ts';
import { outcomePath, readOutcome, readPending, writePending } from '../../../src/device/update/pending.ts';
import { parseSignature, signRelease } from '../../../src/device/update/release-signature.ts';
import { stageRelease, stagedPath } from '../../../src/device/update/staged.ts';
import { recordAttack } from '../../attacks/table.ts';
import { AgentProcess, REGTERM, until } from '../agent/agent-process.ts';
import { CarrierClient } from '../carrier/helpers/carrier-client.ts';
import { Mosquitto, freePort } from '../carrier/helpers/mosquitto.ts';
import { createPki } from '../carrier/helpers/pki.ts';
import { TARGET, makeRelease, pinReleaseKey, releaseKey } from './fixture.ts';

/**
 * The carrier's update command end to end: the real agent on mosquitto (TLS, client certificates), a carrier-signed
 * command on `update/request` naming a release served by a local HTTP server, the agent's device-signed reports on
 * `update/reported`, and the privileged installer run as regterm-update.service runs it (`regterm update apply-staged`)
 * on a terminal root in a temporary directory. The agent's state directory is that root's /var/lib/regterm, so the
 * agent, the installer and the update guard share the update directory as they do on a terminal.
 */
const DEVICE = 'term-update';
const RUNNING = releaseVersion();
const PREVIOUS = '0.0.9';
const topics = new Topics(DEVICE);
const carrierKey = generateKeyPairSync('ed25519');
const strangerCarrier = generateKeyPairSync('ed25519');
const release = releaseKey();
const strangerRelease = releaseKey();
const GUARD = join(import.meta.dirname, '..', '..', '..', 'scripts', 'update-guard');

let dir = '';
let root = '';
let updateDir = '';
let mosquitto: Mosquitto;
let carrier: CarrierClient;
let configPath = '';
let devicePub: ReturnType<typeof readPublicKey>;
let http: Server;
let base = '';
let agent: AgentProcess | undefined;
let good: { url: string; sha256: string };
let forged: { url: string; sha256: string };

/** Serves `file` (and its .sig) under /<folder>/ of the local update server. */
function publish(folder: string, file: string, sig: string): { url: string; sha256: string } {
  mkdirSync(join(dir, 'www', folder), { recursive: true });
  copyFileSync(file, join(dir, 'www', folder, basename(file)));
  writeFileSync(join(dir, 'www', folder, `${basename(file)}.sig`), sig);
  return { url: `${base}/${folder}/${basename(file)}`, sha256: parseSignature(sig).sha256 };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-update-command-'));
  root = join(dir, 'root');
  updateDir = join(root, PATHS.updateDir);
  mkdirSync(updateDir, { recursive: true });
  await pinReleaseKey(root, release.publicKey);
  // the terminal as provisioning leaves it: PREVIOUS installed and current, no trial
  const installed = await makeRelease(dir, PREVIOUS, release.privateKey);
  await applyRelease({ root, tarball: installed.tarball, signature: parseSignature(readFileSync(installed.sig, 'utf8')), restart: () => undefined });
  rmSync(join(updateDir, 'pending'));

  http = createServer((req, res) => {
    const path = join(dir, 'www', decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!path.startsWith(join(dir, 'www')) || !existsSync(path)) return void res.writeHead(404).end();
    res.writeHead(200).end(readFileSync(path));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const v2 = await makeRelease(dir, '0.2.0', release.privateKey, { payloadBytes: 256 * 1024 });
  good = publish('good', v2.tarball, readFileSync(v2.sig, 'utf8'));
  forged = publish('forged', v2.tarball, JSON.stringify(await signRelease(v2.tarball, strangerRelease.privateKey)));

  mkdirSync(join(dir, 'pki'));
  const pki = createPki(join(dir, 'pki'));
  mosquitto = new Mosquitto(dir, await freePort(), pki);
  await mosquitto.start();
  await createIdentity(join(dir, 'identity'));
  devicePub = readPublicKey(join(dir, 'identity', PUBLIC_KEY_FILE));
  mkdirSync(join(dir, 'carrier-keys'));
  writeFileSync(join(dir, 'carrier-keys', 'carrier.pem'), carrierKey.publicKey.export({ format: 'pem', type: 'spki' }));
  writeFileSync(join(dir, 'carrier.key.pem'), carrierKey.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const cert = pki.client(DEVICE);
  configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({
    deviceId: DEVICE, stateDir: join(root, PATHS.stateDir), log: { level: 'info' },
    camera: { backend: 'replay', recording: DEMO_CLIP, pace: 'recorded' }, panel: { backend: 'sim' },
    mqtt: { url: mosquitto.url, caFile: pki.ca, certFile: cert.cert, keyFile: cert.key, reconnectMinMs: 100, reconnectMaxMs: 1000 },
    carrier: { keysDir: join(dir, 'carrier-keys'), drainBudgetMs: 1000 },
    identity: { signingKeyFile: join(dir, 'identity', PRIVATE_KEY_FILE) },
    update: { releaseKeysDir: join(root, PATHS.releaseKeys) },
  }));
  carrier = new CarrierClient(mosquitto.url, pki.ca, pki.client('carrier'), { autoAck: true });
  await carrier.start(`regterm/v1/${DEVICE}/#`);
});

afterAll(async () => {
  agent?.killGroup();
  await carrier?.stop();
  await mosquitto?.stop();
  await new Promise((resolve) => http?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startAgent(connected = true): Promise<AgentProcess> {
  const a = new AgentProcess(['run', '--config', configPath], { PATH: process.env.PATH });
  agent = a;
  const ready = () => a.lines.some((l) => l.msg === 'started' && l.component === 'updates');
  await until(() => (connected ? a.subscriptions(topics.updateRequest) > 0 && ready() : ready()) || a.child.exitCode !== null, 90_000, `the agent (stderr: ${a.stderr})`);
  if (a.child.exitCode !== null) throw new Error(`the agent exited ${a.child.exitCode}: ${a.stderr}`);
  return a;
}

async function stopAgent(): Promise<void> {
  agent?.child.kill('SIGTERM');
  await agent?.exited;
  agent = undefined;
}

/** A carrier-signed update command (fields overridable), as the carrier's backend would publish it. */
async function command(fields: Partial<Record<string, unknown>>, signer = carrierKey): Promise<string> {
  const now = Date.now();
  return signJson({
    v: 1, deviceId: DEVICE, nonce: randomBytes(18).toString('base64url'), issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 3600_000).toISOString(), url: good.url, sha256: good.sha256, version: '0.2.0', ...fields,
  }, signer.privateKey, await keyId(signer.publicKey), UPDATE_REQUEST_TYP);
}

/** Every update report so far, each verified with the device key (an unverifiable one fails the test). */
async function reports(): Promise<UpdateReport[]> {
  return (await carrier.verifiedJson(topics.updateReported, devicePub)).map((j) => updateReportSchema.parse(j));
}

const reportCount = () => carrier.messages.filter((x) => x.topic === topics.updateReported).length;

/** The first report after the first `after` that has `status`. */
async function nextReport(after: number, status: UpdateReport['status'], timeoutMs = 30_000): Promise<UpdateReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await reports()).slice(after).find((r) => r.status === status);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for an update report ${status} (got ${JSON.stringify((await reports()).slice(after))})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends `payload` and returns the first report after `accepted` (a rejection after the download comes later). */
async function answer(payload: string): Promise<UpdateReport> {
  const before = reportCount();
  await carrier.publish(topics.updateRequest, payload);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = (await reports()).slice(before).find((x) => x.status !== 'accepted');
    if (r) return r;
    if (Date.now() > deadline) throw new Error('timed out waiting for an answer to the update command');
    await new Promise((res) => setTimeout(res, 50));
  }
}

function installer(): { status: number | null; json: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, [REGTERM, 'update', 'apply-staged', '--root', root, '--no-restart', '--json'], { encoding: 'utf8' });
  return { status: r.status, json: r.stdout ? JSON.parse(r.stdout) as Record<string, unknown> : {}, stderr: r.stderr };
}

describe('the carrier update command', () => {
  it('rejects an unsigned, a wrongly signed, a stranger-signed command, a wrong hash and a release not signed by the pinned key, each with its reason', async () => {
    await startAgent();
    const signed = await command({});
    const [h, p, s] = signed.split('.');
    const flipped = `${h}.${p}.${s!.slice(0, -2)}${s!.at(-2) === 'A' ? 'B' : 'A'}${s!.at(-1)}`;
    const cases: [string, () => Promise<string>, string][] = [
      ['unsigned update command (plain JSON)', async () => Buffer.from(p!, 'base64url').toString(), 'malformed'],
      ['update command with a broken signature', async () => flipped, 'bad_signature'],
      ['update command signed by an unpinned carrier key', () => command({}, strangerCarrier), 'unknown_key'],
      ['update command naming another sha256', () => command({ sha256: 'ab'.repeat(32) }), 'bad_hash'],
      ['release signed by an unpinned release key', () => command({ url: forged.url, sha256: forged.sha256 }), 'bad_release_signature'],
      ['update command for another device', () => command({ deviceId: 'term-other' }), 'wrong_device'],
      ['expired update command', () => command({ issuedAt: new Date(Date.now() - 7200_000).toISOString(), expiresAt: new Date(Date.now() - 3600_000).toISOString() }), 'expired'],
      ['update URL that does not exist', () => command({ url: `${base}/missing/regterm-0.2.0-${TARGET}.tar.gz` }), 'download_failed'],
    ];
    for (const [attack, build, want] of cases) {
      const r = await answer(await build());
      recordAttack({ area: 'update command', attack, expected: `rejected/${want}`, observed: `${r.status}/${r.reason ?? ''}` });
      expect(r, attack).toMatchObject({ status: 'rejected', reason: want, running: RUNNING });
    }
    expect(existsSync(stagedPath(updateDir))).toBe(false);
    expect(currentVersion(root)).toBe(PREVIOUS);
    expect(readdirSync(updateDir).filter((n) => n.startsWith('.'))).toEqual([]); // no download left behind
  }, 180_000);

  it('waits for the running session, stages a verified release, refuses sessions until the installer has run, reports an installer failure, and refuses the replayed command', async () => {
    // the command as the operations team makes it: `regterm carrier update` from the release's signature file
    const made = spawnSync(process.execPath, [REGTERM, 'carrier', 'update', '--key', join(dir, 'carrier.key.pem'), '--device', DEVICE,
      '--url', good.url, '--sig', join(dir, 'www', 'good', `${basename(good.url)}.sig`)], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const cmd = made.stdout.trim();
    // a session in progress: the update must not be installed under it
    const sessionId = 'sess-during-update';
    const request = buildSessionRequest({ deviceId: DEVICE, sessionId, ttlS: 120,
      reference: { format: 'jpeg', data: readFileSync(DEMO_REFERENCE) }, policy: { challenges: { set: ['turn_left'], required: [], count: 1 } } });
    await carrier.publish(topics.request, await signSessionRequest(request, carrierKey.privateKey, await keyId(carrierKey.publicKey)));
    await until(() => carrier.messages.some((m) => m.topic === topics.progress(sessionId)), 30_000, 'the session to run');

    const before = reportCount();
    await carrier.publish(topics.updateRequest, cmd);
    const accepted = await nextReport(before, 'accepted');
    expect(accepted).toMatchObject({ version: '0.2.0' });
    const acceptedWhileSession = !carrier.results.has(sessionId);
    await nextReport(before, 'staged', 120_000);
    const resultIndex = carrier.messages.findIndex((m) => m.topic === topics.result(sessionId));
    const stagedIndex = carrier.messages.findIndex((m, i) => i >= resultIndex && m.topic === topics.updateReported && m.payload.length > 0);
    recordAttack({ area: 'update command', attack: 'update command while a session runs', expected: 'staged after the session result',
      observed: acceptedWhileSession && resultIndex >= 0 && stagedIndex > resultIndex ? 'staged after the session result' : 'staged during the session' });
    expect(acceptedWhileSession).toBe(true);
    expect(resultIndex).toBeGreaterThanOrEqual(0);
    expect(readdirSync(stagedPath(updateDir)).sort()).toEqual(['release.tar.gz', 'release.tar.gz.sig', 'request.json']);

    // staged: a new session is refused (the installer is about to restart the agent)
    const refused = buildSessionRequest({ deviceId: DEVICE, sessionId: 'sess-refused', ttlS: 60, reference: { format: 'jpeg', data: readFileSync(DEMO_REFERENCE) } });
    await carrier.publish(topics.request, await signSessionRequest(refused, carrierKey.privateKey, await keyId(carrierKey.publicKey)));
    await until(() => carrier.results.has('sess-refused'), 15_000, 'the refused session');
    const { payload } = await compactVerify(carrier.results.get('sess-refused')![0]!, devicePub);
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ decision: 'rejected', reason: 'busy' });

    // the installer fails (a trial of the running release is still pending): reported, and sessions resume
    writePending(updateDir, { version: PREVIOUS, previous: '', deadline: Math.floor(Date.now() / 1000) + 600, max_attempts: 3, attempts: 1, ready_at: 0 });
    const failedRun = installer();
    expect(failedRun.status).not.toBe(0);
    const failed = await nextReport(before, 'failed');
    expect(failed).toMatchObject({ version: '0.2.0', reason: 'install_failed', previous: PREVIOUS });
    expect(failed.detail).toMatch(/still on trial/);
    await until(() => !existsSync(outcomePath(updateDir)), 10_000, 'the reported failure to be removed');
    rmSync(join(updateDir, 'pending'));
    expect(currentVersion(root)).toBe(PREVIOUS);

    // the carrier tries again
    const again = reportCount();
    await carrier.publish(topics.updateRequest, await command({}));
    await nextReport(again, 'staged', 60_000);

    // regterm-update.service: the installer as root
    const run = installer();
    expect(run.status, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ status: 'switched', version: '0.2.0', previous: PREVIOUS });
    expect(currentVersion(root)).toBe('0.2.0');
    expect(readPending(updateDir)).toMatchObject({ version: '0.2.0', previous: PREVIOUS });
    expect(existsSync(stagedPath(updateDir))).toBe(false);

    const replay = await answer(cmd);
    recordAttack({ area: 'update command', attack: 'replayed update command', expected: 'rejected/replayed', observed: `${replay.status}/${replay.reason ?? ''}` });
    expect(replay).toMatchObject({ status: 'rejected', reason: 'replayed' });
    await stopAgent();
  }, 240_000);

  it('the new release never runs stably: the guard rolls back, and the previous release reports it once the broker is back', async () => {
    // systemd starts the new release again and again (it crashes before READY); the fourth start rolls back
    for (let i = 0; i < 4; i++) {
      const g = spawnSync('sh', [GUARD, 'start'], { env: { ...process.env, REGTERM_GUARD_ROOT: root }, encoding: 'utf8' });
      expect(g.status, g.stderr).toBe(0);
    }
    expect(currentVersion(root)).toBe(PREVIOUS);
    expect(readOutcome(updateDir)).toMatchObject({ result: 'rolled-back', version: '0.2.0' });

    await mosquitto.stop(); // the broker is down while the terminal comes back
    const before = reportCount();
    await startAgent(false);
    await new Promise((r) => setTimeout(r, 1000));
    expect(existsSync(outcomePath(updateDir))).toBe(true); // kept: not reported yet
    await mosquitto.start();
    const rolledBack = await nextReport(before, 'rolled_back', 60_000);
    await until(() => !existsSync(outcomePath(updateDir)), 10_000, 'the reported outcome to be removed');
    recordAttack({ area: 'update', attack: 'updated release keeps crashing, broker down at boot', expected: 'rolled_back/kept_restarting reported',
      observed: `${rolledBack.status}/${rolledBack.reason ?? ''} reported` });
    expect(rolledBack).toMatchObject({ version: '0.2.0', previous: PREVIOUS, reason: 'kept_restarting', running: RUNNING });
    await stopAgent();
  }, 180_000);

  it('a release that reaches READY is reported applied, and confirmed once it has been up for the probation time', async () => {
    // the running version as the update: staged as the agent stages it, installed by the installer
    const own = await makeRelease(join(dir, 'own'), RUNNING, release.privateKey);
    const sig = readFileSync(own.sig, 'utf8');
    const copy = join(updateDir, 'download.tar.gz');
    copyFileSync(own.tarball, copy);
    stageRelease(updateDir, copy, sig, { version: RUNNING, sha256: parseSignature(sig).sha256, nonce: 'n'.repeat(24) });
    expect(installer().json).toMatchObject({ status: 'switched', version: RUNNING, previous: PREVIOUS });

    const before = reportCount();
    await startAgent();
    expect(await nextReport(before, 'applied')).toMatchObject({ version: RUNNING, previous: PREVIOUS, running: RUNNING });
    // the unit's ExecStartPost noted READY long enough ago: the running agent settles the trial itself
    const g = spawnSync('sh', [GUARD, 'ready'], { env: { ...process.env, REGTERM_GUARD_ROOT: root, REGTERM_GUARD_NOW: String(Math.floor(Date.now() / 1000) - 200) } });
    expect(g.status).toBe(0);
    expect(await nextReport(before, 'confirmed', 30_000)).toMatchObject({ version: RUNNING, previous: PREVIOUS });
    await until(() => !existsSync(outcomePath(updateDir)), 10_000, 'the reported outcome to be removed');
    expect(readPending(updateDir)).toBeUndefined();
    await stopAgent();
  }, 180_000);
});
