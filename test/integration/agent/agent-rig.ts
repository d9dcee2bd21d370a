import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { verifyResult } from '../../../src/carrier/jws.ts';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { Topics, type ResultPayload, type SessionRequest } from '../../../src/carrier/protocol.ts';
import { extractJpegFrame } from '../../../src/compose/demo/reference-frame.ts';
import { createIdentity, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { faceDataRoot } from '../../face-data.ts';
import { CarrierClient } from '../carrier/helpers/carrier-client.ts';
import { Mosquitto, freePort } from '../carrier/helpers/mosquitto.ts';
import { createPki } from '../carrier/helpers/pki.ts';
import { AgentProcess, until } from './agent-process.ts';

/**
 * One provisioned terminal for fault tests of the real agent: mosquitto with TLS client certificates and the
 * per-device ACL, a device identity, a carrier key pair, a config (replay camera on a real clip at fast pace, sim
 * panel) and the carrier stand-in subscribed to the device's topics. `stateDir` may point elsewhere (a small
 * file system).
 */
export const CLIP = join(faceDataRoot(), 'liveportrait_driving_videos', 'd3.mp4');

export interface RigOptions {
  deviceId: string;
  stateDir?: string;
  carrier?: ConstructorParameters<typeof CarrierClient>[3];
}

export class AgentRig {
  readonly topics: Topics;
  dir = '';
  stateDir = '';
  configPath = '';
  mosquitto!: Mosquitto;
  carrier!: CarrierClient;
  private carrierKey!: { publicKey: KeyObject; privateKey: KeyObject };
  private reference?: Uint8Array;
  private agents: AgentProcess[] = [];

  constructor(private readonly options: RigOptions) {
    this.topics = new Topics(options.deviceId);
  }

  async start(): Promise<void> {
    const { deviceId } = this.options;
    this.dir = mkdtempSync(join(tmpdir(), `regterm-${deviceId}-`));
    mkdirSync(join(this.dir, 'pki'));
    const pki = createPki(join(this.dir, 'pki'));
    this.mosquitto = new Mosquitto(this.dir, await freePort(), pki);
    await this.mosquitto.start();
    await createIdentity(join(this.dir, 'identity'));
    this.carrierKey = generateKeyPairSync('ed25519');
    mkdirSync(join(this.dir, 'carrier-keys'));
    writeFileSync(join(this.dir, 'carrier-keys', 'carrier.pem'), this.carrierKey.publicKey.export({ format: 'pem', type: 'spki' }));
    const cert = pki.client(deviceId);
    this.stateDir = this.options.stateDir ?? join(this.dir, 'state');
    this.configPath = join(this.dir, 'config.json');
    writeFileSync(this.configPath, JSON.stringify({
      deviceId, stateDir: this.stateDir, log: { level: 'info' },
      camera: { backend: 'replay', recording: CLIP, pace: 'fast' }, panel: { backend: 'sim' },
      mqtt: { url: this.mosquitto.url, caFile: pki.ca, certFile: cert.cert, keyFile: cert.key, reconnectMinMs: 100, reconnectMaxMs: 1000 },
      carrier: { keysDir: join(this.dir, 'carrier-keys'), drainBudgetMs: 3000 },
      identity: { signingKeyFile: join(this.dir, 'identity', PRIVATE_KEY_FILE) },
      telemetry: { intervalS: 5 },
    }));
    this.carrier = new CarrierClient(this.mosquitto.url, pki.ca, pki.client('carrier'), this.options.carrier ?? { autoAck: true });
    await this.carrier.start(`regterm/v1/${deviceId}/#`);
  }

  /** Kills every agent it started and waits for them, so nothing holds the state directory afterwards. */
  async stop(): Promise<void> {
    for (const a of this.agents) a.killGroup();
    await Promise.all(this.agents.map((a) => a.exited));
    await this.carrier?.stop();
    await this.mosquitto?.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Starts `regterm run` and resolves once it is connected to the broker (subscribed right after). */
  async startAgent(): Promise<AgentProcess> {
    const a = new AgentProcess(['run', '--config', this.configPath], { PATH: process.env.PATH });
    this.agents.push(a);
    await until(() => a.lines.some((l) => l.msg === 'connected') || a.child.exitCode !== null, 60_000,
      `the agent to connect (stderr: ${a.stderr})`);
    if (a.child.exitCode !== null) throw new Error(`the agent exited ${a.child.exitCode}: ${a.stderr}`);
    return a;
  }

  /** A carrier-signed request with one challenge (a short session), for the clip's face; published when `send`. */
  async request(sessionId: string): Promise<{ request: SessionRequest; send: () => Promise<void> }> {
    this.reference ??= await extractJpegFrame(CLIP, 10.5);
    const request = buildSessionRequest({ deviceId: this.options.deviceId, reference: { format: 'jpeg', data: this.reference },
      ttlS: 600, sessionId, policy: { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } } });
    const jws = await signSessionRequest(request, this.carrierKey.privateKey, await keyId(this.carrierKey.publicKey));
    return { request, send: () => this.carrier.publish(this.topics.request, jws) };
  }

  /** The verified payload of a result the carrier received (the first copy). */
  async result(sessionId: string, copy = 0): Promise<ResultPayload> {
    const key = readPublicKey(join(this.dir, 'identity', PUBLIC_KEY_FILE));
    return (await verifyResult(this.carrier.results.get(sessionId)![copy]!, key)).payload as ResultPayload;
  }
}
