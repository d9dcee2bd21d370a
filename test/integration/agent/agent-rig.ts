import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { verifyResult } from '../../../src/carrier/jws.ts';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { Topics, type ResultPayload, type SessionRequest } from '../../../src/carrier/protocol.ts';
import { extractJpegFrame } from '../../../src/compose/demo/reference-frame.ts';
import { createIdentity, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { faceDataRoot } from '../../face-data.ts';
import type { CarrierClient } from '../carrier/helpers/carrier-client.ts';
import { startBrokerRig, type BrokerRig, type BrokerRigOptions } from '../carrier/helpers/broker-rig.ts';
import type { Mosquitto } from '../carrier/helpers/mosquitto.ts';
import type { TestPki } from '../carrier/helpers/pki.ts';
import { AgentProcess, NotifySocket, until } from './agent-process.ts';

/**
 * One provisioned terminal for tests of the real agent: mosquitto with TLS client certificates and the per-device
 * ACL, a device identity, a carrier key pair, a config (replay camera on a real clip at fast pace, sim panel) and
 * the carrier stand-in subscribed to the device's topics. `stateDir` may point elsewhere (a small file system).
 * Every agent and notify socket it made is ended by `close()`.
 */
export const CLIP = join(faceDataRoot(), 'liveportrait_driving_videos', 'd3.mp4');
/** an rpicam-vid that finds no camera: for tests about everything but the session */
export const NO_CAMERA = { backend: 'rpicam', rpicamBin: join(import.meta.dirname, '..', '..', 'fixtures', 'rpicam', 'no-camera-rpicam-vid') };

type KeyPair = { publicKey: KeyObject; privateKey: KeyObject };
/** Config sections over the rig's: each is merged key by key into the rig's, except `camera`, which replaces it (one
 * backend's keys mean nothing to another); a section set to undefined is left out. */
export type ConfigSections = Record<string, Record<string, unknown> | undefined>;

export interface RigOptions {
  deviceId: string;
  stateDir?: string;
  carrier?: BrokerRigOptions['carrier'];
  /** the carrier stand-in connects on the carrier listener */
  carrierListener?: boolean;
  mosquitto?: BrokerRigOptions['mosquitto'];
  /** the carrier key the terminal trusts (a fresh one by default) */
  carrierKey?: KeyPair;
  /** the spec's config sections, made once the PKI and broker exist */
  config?: (rig: AgentRig) => ConfigSections;
}

export class AgentRig {
  readonly topics: Topics;
  dir = '';
  stateDir = '';
  configPath = '';
  readonly carrierKey: KeyPair;
  private brokerRig!: BrokerRig;
  private reference?: Uint8Array;
  private agents: AgentProcess[] = [];
  private sockets: NotifySocket[] = [];

  constructor(private readonly options: RigOptions) {
    this.topics = new Topics(options.deviceId);
    this.carrierKey = options.carrierKey ?? generateKeyPairSync('ed25519');
  }

  get mosquitto(): Mosquitto {
    return this.brokerRig.broker;
  }

  get carrier(): CarrierClient {
    return this.brokerRig.carrier;
  }

  get pki(): TestPki {
    return this.brokerRig.pki;
  }

  /** the device's public signing key file (what the carrier records at enrollment) */
  get devicePublicKeyFile(): string {
    return join(this.dir, 'identity', PUBLIC_KEY_FILE);
  }

  async start(): Promise<void> {
    const { deviceId } = this.options;
    this.brokerRig = await startBrokerRig({ name: deviceId, carrier: this.options.carrier ?? { autoAck: true },
      carrierFilter: `regterm/v1/${deviceId}/#`, carrierListener: this.options.carrierListener, mosquitto: this.options.mosquitto });
    this.dir = this.brokerRig.root;
    await createIdentity(join(this.dir, 'identity'));
    mkdirSync(join(this.dir, 'carrier-keys'));
    writeFileSync(join(this.dir, 'carrier-keys', 'carrier.pem'), this.carrierKey.publicKey.export({ format: 'pem', type: 'spki' }));
    const cert = this.pki.client(deviceId);
    this.stateDir = this.options.stateDir ?? join(this.dir, 'state');
    this.configPath = join(this.dir, 'config.json');
    const config: ConfigSections = {
      log: { level: 'info' },
      camera: { backend: 'replay', recording: CLIP, pace: 'fast' }, panel: { backend: 'sim' },
      mqtt: { url: this.mosquitto.url, caFile: this.pki.ca, certFile: cert.cert, keyFile: cert.key, reconnectMinMs: 100, reconnectMaxMs: 1000 },
      carrier: { keysDir: join(this.dir, 'carrier-keys'), drainBudgetMs: 3000 },
      identity: { signingKeyFile: join(this.dir, 'identity', PRIVATE_KEY_FILE) },
      telemetry: { intervalS: 5 },
    };
    for (const [section, over] of Object.entries(this.options.config?.(this) ?? {})) {
      config[section] = over === undefined || section === 'camera' ? over : { ...config[section], ...over };
    }
    writeFileSync(this.configPath, JSON.stringify({ deviceId, stateDir: this.stateDir, ...config }));
  }

  /** Kills every agent it started and waits for them, so nothing holds the state directory afterwards. */
  async close(): Promise<void> {
    for (const a of this.agents) a.killGroup();
    await Promise.all(this.agents.map((a) => a.exited));
    for (const s of this.sockets) s.close();
    await this.brokerRig?.close();
  }

  /** A systemd notify socket stand-in in the rig's directory. */
  notifySocket(name: string): NotifySocket {
    const socket = new NotifySocket(join(this.dir, `${name}.sock`));
    this.sockets.push(socket);
    return socket;
  }

  /** Starts `regterm run` with the rig's config (PATH and `env` only); `entry` as AgentProcess takes it. */
  spawnAgent(env: NodeJS.ProcessEnv = {}, entry?: string): AgentProcess {
    const a = new AgentProcess(['run', '--config', this.configPath], { PATH: process.env.PATH, ...env }, entry);
    this.agents.push(a);
    return a;
  }

  /** Starts `regterm run` and resolves once the broker took its subscription to session requests. */
  async startAgent(): Promise<AgentProcess> {
    const a = this.spawnAgent();
    await until(() => a.subscriptions(this.topics.request) > 0 || a.child.exitCode !== null, 60_000,
      `the agent to subscribe (stderr: ${a.stderr})`);
    if (a.child.exitCode !== null) throw new Error(`the agent exited ${a.child.exitCode}: ${a.stderr}`);
    return a;
  }

  /** `request` signed as the carrier does (with the rig's carrier key unless `signer`). */
  async sign(request: SessionRequest, signer: KeyPair = this.carrierKey): Promise<string> {
    return signSessionRequest(request, signer.privateKey, await keyId(signer.publicKey));
  }

  /** A carrier-signed request with one challenge (a short session), for the clip's face; published when `send`. */
  async request(sessionId: string): Promise<{ request: SessionRequest; send: () => Promise<void> }> {
    this.reference ??= await extractJpegFrame(CLIP, 10.5);
    const request = buildSessionRequest({ deviceId: this.options.deviceId, reference: { format: 'jpeg', data: this.reference },
      ttlS: 600, sessionId, policy: { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } } });
    const jws = await this.sign(request);
    return { request, send: () => this.carrier.publish(this.topics.request, jws) };
  }

  /** The verified payload of a result the carrier received (the first copy). */
  async result(sessionId: string, copy = 0): Promise<ResultPayload> {
    return (await verifyResult(this.carrier.results.get(sessionId)![copy]!, readPublicKey(this.devicePublicKeyFile))).payload as ResultPayload;
  }
}
