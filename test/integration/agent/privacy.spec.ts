import { execFile, execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { keyId } from '../../../src/carrier/keys.ts';
import { Topics } from '../../../src/carrier/protocol.ts';
import { extractJpegFrame } from '../../../src/compose/demo/reference-frame.ts';
import { createIdentity, PRIVATE_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { describeWithFaceData, faceDataRoot } from '../../face-data.ts';
import { recordAttack } from '../../attacks/table.ts';
import { CarrierClient } from '../carrier/helpers/carrier-client.ts';
import { Mosquitto, freePort } from '../carrier/helpers/mosquitto.ts';
import { createPki } from '../carrier/helpers/pki.ts';
import { AgentProcess, NotifySocket, REGTERM, until } from './agent-process.ts';

/**
 * The terminal talks to its broker and nothing else (DESIGN.md §6). onnxruntime-node ships a telemetry client that
 * keeps a queue under ~/.cache/Microsoft, a debug log in $TMPDIR and uploads to an external host unless it is switched
 * off; src/vision/onnxruntime.ts switches it off in code. These tests run the real CLI and the real agent with a fresh
 * HOME and TMPDIR and WITHOUT ORT_DISABLE_TELEMETRY in their environment, and a full session under strace: every
 * connect/sendto/sendmsg destination must be the broker or the systemd notify socket.
 */
const DATA = faceDataRoot();
const PHOTO = join(DATA, 'doubango_liveness_samples', 'genuine.jpg');
const CLIP = join(DATA, 'liveportrait_driving_videos', 'd3.mp4');
const DEVICE = 'term-private';
const run = promisify(execFile);

let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-privacy-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh HOME and TMPDIR, and an environment without any onnxruntime switch. */
function isolatedEnv(name: string): { home: string; tmp: string; env: NodeJS.ProcessEnv } {
  const home = join(dir, `${name}-home`);
  const tmp = join(dir, `${name}-tmp`);
  mkdirSync(home);
  mkdirSync(tmp);
  return { home, tmp, env: { PATH: process.env.PATH, HOME: home, TMPDIR: tmp } };
}

/** What a run left in HOME and TMPDIR, as relative paths; the dev runner's compile cache (tsx-<uid>) is not the product's. */
function leftBehind(home: string, tmp: string): string[] {
  const walk = (root: string, at: string): string[] => readdirSync(at, { withFileTypes: true }).flatMap((e) => {
    const path = join(at, e.name);
    return [relative(root, path), ...(e.isDirectory() ? walk(root, path) : [])];
  });
  return [...walk(home, home).map((p) => `~/${p}`), ...walk(tmp, tmp).filter((p) => !/^tsx-\d+/.test(p)).map((p) => `$TMPDIR/${p}`)];
}

describeWithFaceData('no third-party traffic or telemetry files', ['liveportrait_driving_videos/d3.mp4', 'doubango_liveness_samples/genuine.jpg'], () => {
  it('regterm analyze creates onnxruntime sessions and leaves nothing in HOME or TMPDIR', async () => {
    const { home, tmp, env } = isolatedEnv('analyze');
    expect(env.ORT_DISABLE_TELEMETRY).toBeUndefined();
    const { stdout } = await run(process.execPath, [REGTERM, 'analyze', PHOTO, '--json'], { env, encoding: 'utf8' });
    const images = (JSON.parse(stdout) as { images: Array<{ faces: unknown[] }> }).images;
    expect(images[0]!.faces.length).toBe(1); // the models really ran
    const left = leftBehind(home, tmp);
    recordAttack({ area: 'privacy', attack: 'regterm analyze, fresh HOME/TMPDIR, no ORT_DISABLE_TELEMETRY',
      expected: 'no telemetry files', observed: left.length === 0 ? 'no telemetry files' : left.slice(0, 3).join(', ') });
    expect(left).toEqual([]);
  });

  it('a full session under strace connects to the broker and the notify socket only, and writes no telemetry', async () => {
    mkdirSync(join(dir, 'pki'));
    const pki = createPki(join(dir, 'pki'));
    const mosquitto = new Mosquitto(dir, await freePort(), pki);
    await mosquitto.start();
    const notify = new NotifySocket(join(dir, 'notify.sock'));
    const carrierKey = generateKeyPairSync('ed25519');
    const carrier = new CarrierClient(mosquitto.carrierUrl, pki.ca, pki.client('carrier'), { autoAck: true });
    let agent: AgentProcess | undefined;
    try {
      await createIdentity(join(dir, 'identity'));
      mkdirSync(join(dir, 'carrier-keys'));
      writeFileSync(join(dir, 'carrier-keys', 'carrier.pem'), carrierKey.publicKey.export({ format: 'pem', type: 'spki' }));
      const cert = pki.client(DEVICE);
      const configPath = join(dir, 'config.json');
      writeFileSync(configPath, JSON.stringify({
        deviceId: DEVICE, stateDir: join(dir, 'state'),
        camera: { backend: 'replay', recording: CLIP, pace: 'fast' }, panel: { backend: 'sim' },
        mqtt: { url: mosquitto.url, caFile: pki.ca, certFile: cert.cert, keyFile: cert.key },
        carrier: { keysDir: join(dir, 'carrier-keys'), drainBudgetMs: 3000 },
        identity: { signingKeyFile: join(dir, 'identity', PRIVATE_KEY_FILE) },
        telemetry: { intervalS: 5 },
      }));
      await carrier.start(`regterm/v1/${DEVICE}/#`);
      const { home, tmp, env } = isolatedEnv('agent');
      const trace = join(dir, 'strace.txt');
      agent = new AgentProcess(['run', '--config', configPath], { ...env, NOTIFY_SOCKET: notify.path }, REGTERM,
        ['strace', '-f', '--seccomp-bpf', '-qq', '-e', 'trace=connect,sendto,sendmsg', '-o', trace]);

      await until(() => notify.states.includes('READY=1'), 90_000, `READY=1 (stderr: ${agent.stderr})`);
      const topics = new Topics(DEVICE);
      const request = buildSessionRequest({ deviceId: DEVICE, reference: { format: 'jpeg', data: await extractJpegFrame(CLIP, 10.5) },
        ttlS: 300, policy: { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } } });
      await carrier.publish(topics.request, await signSessionRequest(request, carrierKey.privateKey, await keyId(carrierKey.publicKey)));
      await carrier.until(() => carrier.results.has(request.sessionId), 180_000, 'the session result');
      await carrier.until(() => carrier.messages.some((m) => m.topic === topics.telemetry), 15_000, 'a telemetry sample');
      await until(() => agent!.hasLog('result acknowledged'), 10_000, 'the ack');
      const node = execFileSync('ps', ['-o', 'pid=', '--ppid', String(agent.pid)], { encoding: 'utf8' }).trim().split(/\s+/)[0];
      process.kill(Number(node), 'SIGTERM');
      expect(await agent.exited).toEqual({ code: 0, signal: null });

      const destinations = readFileSync(trace, 'utf8').split('\n').flatMap(destinationOf);
      const broker = `AF_INET 127.0.0.1:${mosquitto.port}`;
      const allowed = new Set([broker, `AF_UNIX ${notify.path}`]);
      // the dev runner's own IPC socket (tsx compiles the sources; the release bundle has no tsx)
      const tsxPipe = new RegExp(`^AF_UNIX ${tmp}/tsx-\\d+/\\d+\\.pipe$`);
      const others = [...new Set(destinations.filter((d) => !allowed.has(d) && !tsxPipe.test(d)))];
      const left = leftBehind(home, tmp);
      recordAttack({ area: 'privacy', attack: 'full session under strace, fresh HOME/TMPDIR, no ORT_DISABLE_TELEMETRY',
        expected: 'broker + sd_notify only, no files', observed: others.length === 0 && left.length === 0
          ? 'broker + sd_notify only, no files' : [...others, ...left].slice(0, 3).join(', ') });
      expect(destinations).toContain(broker);
      expect(destinations).toContain(`AF_UNIX ${notify.path}`);
      expect(others).toEqual([]);
      expect(left).toEqual([]);
      expect(existsSync(join(home, '.cache'))).toBe(false);
    } finally {
      agent?.killGroup();
      await carrier.stop();
      notify.close();
      await mosquitto.stop();
    }
  }, 300_000);
});

/**
 * The socket address a traced connect/sendto/sendmsg went to, as `FAMILY address`: `AF_INET 127.0.0.1:8883`,
 * `AF_INET6 [::1]:53`, `AF_UNIX /path`; [] for calls on a connected socket (no address) and unfinished halves.
 */
function destinationOf(line: string): string[] {
  if (!/\b(connect|sendto|sendmsg)\(/.test(line)) return [];
  const inet = /sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)/.exec(line);
  if (inet) return [`AF_INET ${inet[2]}:${inet[1]}`];
  const inet6 = /sa_family=AF_INET6, sin6_port=htons\((\d+)\),.*?inet_pton\(AF_INET6, "([^"]+)"/.exec(line);
  if (inet6) return [`AF_INET6 [${inet6[2]}]:${inet6[1]}`];
  const unix = /sa_family=AF_UNIX, sun_path=(@?"[^"]*")/.exec(line);
  if (unix) return [`AF_UNIX ${JSON.parse(unix[1]!.replace(/^@/, '')) as string}`];
  const family = /sa_family=(AF_\w+)/.exec(line);
  return family ? [family[1]!] : [];
}
