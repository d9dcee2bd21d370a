import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import type { FrameSource } from '../../camera/frame-source.ts';
import { keyId } from '../../carrier/keys.ts';
import type { SessionRequest } from '../../carrier/protocol.ts';
import { loadConfig } from '../../config/load.ts';
import { createIdentity, PRIVATE_KEY_FILE } from '../../carrier/device-key.ts';
import { createLogger } from '../../lib/logger.ts';
import { createNotifier } from '../../device/sd-notify.ts';
import { RegtermError } from '../../lib/errors.ts';
import type { Panel } from '../../panel/create-panel.ts';
import type { RandomSource } from '../../session/random.ts';
import { composeAgent, type ComposedAgent } from '../compose.ts';
import { CarrierStandIn, type CarrierView } from './carrier-stand-in.ts';
import { EmbeddedBroker } from './embedded-broker.ts';

/**
 * The demo's world in one process: an embedded broker, a device with a fresh identity in a temporary state directory,
 * the full agent (composeAgent, the same wiring as `regterm run`) replaying a clip, and the carrier stand-in.
 * Used by `regterm demo` and by scripts/soak.ts. close() stops everything and deletes the temporary directory.
 */
export const DEMO_DEVICE_ID = 'demo-terminal';

export interface RigOptions {
  clip: string;
  logLevel: string;
  logDestination: DestinationStream;
  panel?: Panel;
  camera?: FrameSource;
  random?: RandomSource;
  onProgress?: (sessionId: string, event: Record<string, unknown>) => void;
}

export class DemoRig {
  private standIn?: CarrierStandIn;
  private stopCode?: Promise<number>;

  private constructor(
    readonly composed: ComposedAgent,
    private readonly tmp: string,
    private readonly broker: EmbeddedBroker,
    private readonly keys: { carrier: KeyObject; carrierKid: string; device: KeyObject },
    private readonly onProgress: RigOptions['onProgress'],
  ) {}

  static async open(o: RigOptions): Promise<DemoRig> {
    const tmp = mkdtempSync(join(tmpdir(), 'regterm-demo-'));
    const broker = new EmbeddedBroker();
    try {
      await broker.start();
      const device = await createIdentity(join(tmp, 'identity'));
      const carrier = generateKeyPairSync('ed25519');
      mkdirSync(join(tmp, 'carrier-keys'));
      writeFileSync(join(tmp, 'carrier-keys', 'carrier.pem'), carrier.publicKey.export({ format: 'pem', type: 'spki' }));
      const config = loadConfig({ env: {}, overrides: {
        deviceId: DEMO_DEVICE_ID, stateDir: join(tmp, 'state'), 'log.level': o.logLevel,
        'mqtt.url': broker.url, 'mqtt.protocolVersion': 4, 'carrier.keysDir': join(tmp, 'carrier-keys'),
        'identity.signingKeyFile': join(tmp, 'identity', PRIVATE_KEY_FILE),
        'camera.backend': 'replay', 'camera.recording': o.clip, 'camera.pace': 'fast', 'panel.backend': 'sim',
      } });
      const logger = createLogger({ level: config.log.level, destination: o.logDestination });
      const composed = await composeAgent(config, {
        logger, notifier: createNotifier({}, () => undefined), env: {}, panel: o.panel, camera: o.camera, random: o.random,
      });
      const keys = { carrier: carrier.privateKey, carrierKid: await keyId(carrier.publicKey), device: device.publicKey };
      return new DemoRig(composed, tmp, broker, keys, o.onProgress);
    } catch (e: unknown) {
      await broker.stop();
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Starts the agent and the carrier stand-in; resolves once the agent is connected to the broker. */
  async start(): Promise<void> {
    await this.composed.agent.start();
    this.standIn = new CarrierStandIn({
      url: this.broker.url, protocolVersion: 4, deviceId: DEMO_DEVICE_ID, carrierKey: this.keys.carrier,
      carrierKid: this.keys.carrierKid, devicePublicKey: this.keys.device, onProgress: this.onProgress,
    });
    await this.standIn.start();
    const deadline = Date.now() + 10_000;
    while (!this.composed.link.health().connected) {
      if (Date.now() > deadline) throw new RegtermError('timed out waiting for the agent to connect to the embedded broker');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One session as the carrier sees it; resolves after the verdict was shown on the terminal. */
  async session(reference: Uint8Array, policy: SessionRequest['policy'], timeoutMs: number): Promise<CarrierView> {
    if (!this.standIn) throw new Error('rig not started');
    let handle: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      handle = setTimeout(() => reject(new RegtermError('timed out waiting for the signed result')), timeoutMs);
    });
    try {
      const view = await Promise.race([this.standIn.requestSession(reference, policy), timeout]);
      await this.composed.session.idle();
      return view;
    } finally {
      clearTimeout(handle);
    }
  }

  /** Stops the agent (guarded: a SIGINT may have started it) and resolves to its exit code. */
  stopAgent(reason: string): Promise<number> {
    this.stopCode ??= this.composed.agent.stop(reason);
    return this.stopCode;
  }

  async close(): Promise<number> {
    const code = await this.stopAgent('demo finished');
    await this.standIn?.stop();
    await this.broker.stop();
    rmSync(this.tmp, { recursive: true, force: true });
    return code;
  }
}
