import type { Component } from '../lib/agent.ts';
import { verifyCarrierJws } from '../carrier/carrier-jws.ts';
import { PROTOCOL_VERSION, desiredConfigSchema, type ConfigReport, type Topics } from '../carrier/protocol.ts';
import type { LoadConfigOptions, LoadedConfig } from '../config/load.ts';
import {
  LAST_FAILED_FILE, confirmRemoteBoot, persistRemoteLayer, planRemoteChange, readRemoteLayer, type BootOutcome, type RemoteRefusal,
} from '../config/remote-layer.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/logger.ts';
import { untrustedText } from '../lib/untrusted-text.ts';
import { errorMessage } from '../lib/errors.ts';
import { withoutUndefined } from '../lib/without-undefined.ts';

/**
 * Remote configuration (DESIGN.md §5 `config/desired` / `config/reported`): the carrier publishes a signed desired
 * configuration, retained, on the device's own topic; this component checks it (carrier-jws.ts, then the schema, then
 * remote-layer.ts's plan), persists it as the remote layer, applies the keys that can change live, restarts the agent
 * for the others, and reports what it did, device-signed and retained, on `config/reported`.
 *
 * - Refused (bad signature, wrong device, older or reused version, a key the carrier may not set, any schema problem,
 *   no carrier key left): a signed `refused` report with the reason and every problem; the layer in force stays.
 * - The retained desired message arrives again on every connect: the applied version with the same content is
 *   `unchanged` and only re-reported.
 * - A change that needs a restart is written unconfirmed; the next start counts attempts and rolls back to the last
 *   good layer when it does not reach READY (remote-layer.ts). READY confirms it; both are reported.
 */
export interface RemoteConfigLink {
  readonly topics: Topics;
  onCarrierMessage(topic: string, listener: (payload: Buffer) => void): () => void;
  publishRetained(topic: string, payload: string): void;
}

export interface RemoteConfigOptions {
  deviceId: string;
  stateDir: string;
  link: RemoteConfigLink;
  /** the keys desired configurations are verified with (the same live set as session requests) */
  carrierKeys: () => ReadonlyMap<string, import('node:crypto').KeyObject>;
  /** signs a report with the device key */
  sign: (report: ConfigReport) => Promise<string>;
  /** how this agent's configuration was loaded (its file and environment), to plan a new remote layer over it */
  layers: LoadConfigOptions;
  /** the configuration in force now */
  current: () => LoadedConfig;
  /** checks that belong to the running agent (e.g. at least one carrier key stays trusted); a message refuses */
  check: (next: Readonly<Config>) => Promise<{ reason: RemoteRefusal; problem: string } | undefined>;
  /** applies the keys that change live (log level, session policy, carrier keys, telemetry interval) */
  applyLive: (next: LoadedConfig, keys: readonly string[]) => Promise<void>;
  /** stops the agent so its supervisor starts it again with the new layer */
  restart: (reason: string) => void;
  /** what this start found (remote-layer.ts beginRemoteBoot / rollBackInvalidLayer) */
  boot: BootOutcome;
  logger: Logger;
  now: () => number;
  /** largest desired configuration accepted */
  maxBytes?: number;
}

export class RemoteConfigService implements Component {
  readonly name = 'remote-config';
  private readonly log: Logger;
  private unsubscribe?: () => void;
  /** one message at a time, in arrival order */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: RemoteConfigOptions) {
    this.log = o.logger.child({ component: 'remote-config' });
  }

  /** Started last (after READY is near): confirms a layer that needed a restart, and says what this start found. */
  async start(): Promise<void> {
    const { boot } = this.o;
    if (boot.rolledBack) {
      this.log.error({ version: boot.rolledBack.version, reason: boot.rolledBack.reason, inForce: boot.layer?.version ?? null },
        'remote configuration rolled back');
      await this.report({ status: 'rolled_back', version: boot.rolledBack.version, hash: boot.rolledBack.hash, reason: boot.rolledBack.reason });
    } else if (boot.layer && !boot.layer.confirmed) {
      confirmRemoteBoot(this.o.stateDir);
      this.log.info({ version: boot.layer.version }, 'remote configuration confirmed');
      await this.report({ status: 'applied', version: boot.layer.version, hash: boot.layer.hash });
    }
    this.unsubscribe = this.o.link.onCarrierMessage(this.o.link.topics.configDesired, (payload) => {
      this.queue = this.queue.then(() => this.handle(payload)).catch((e: unknown) => {
        this.log.error({ err: errorMessage(e) }, 'remote configuration handling failed');
      });
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue;
  }

  private async handle(payload: Buffer): Promise<void> {
    if (payload.length === 0) return; // a cleared retained message
    const o = this.o;
    const signed = await verifyCarrierJws(payload, { carrierKeys: o.carrierKeys(), maxBytes: o.maxBytes ?? 256 * 1024 });
    if (!signed.ok) return this.refuse(undefined, signed.reason, [signed.detail]);
    const parsed = desiredConfigSchema.safeParse(signed.json);
    if (!parsed.success) {
      return this.refuse(undefined, 'schema', parsed.error.issues.slice(0, 10).map((i) => untrustedText(`${i.path.join('.')}: ${i.message}`)));
    }
    const desired = parsed.data;
    if (desired.deviceId !== o.deviceId) return this.refuse(desired.version, 'wrong_device', [`for device ${desired.deviceId}`]);
    const applied = readRemoteLayer(o.stateDir);
    const plan = planRemoteChange(o.layers, o.current(), applied, { version: desired.version, config: desired.config },
      readRemoteLayer(o.stateDir, LAST_FAILED_FILE));
    if (plan.kind === 'unchanged') return this.report({ status: 'applied', version: desired.version, hash: applied?.hash });
    if (plan.kind === 'refused') return this.refuse(desired.version, plan.reason, plan.problems.map((p) => untrustedText(p, 280)));
    const problem = await o.check(plan.next.config);
    if (problem) return this.refuse(desired.version, problem.reason, [problem.problem]);

    const needsRestart = plan.restart.length > 0;
    persistRemoteLayer(o.stateDir, { version: desired.version, config: desired.config }, needsRestart);
    this.log.info({ version: desired.version, live: plan.live, restart: plan.restart }, 'remote configuration accepted');
    if (!needsRestart) {
      await o.applyLive(plan.next, plan.live);
      return this.report({ status: 'applied', version: plan.version, hash: plan.hash, live: plan.live, restart: [] });
    }
    await this.report({ status: 'restarting', version: plan.version, hash: plan.hash, live: plan.live, restart: plan.restart });
    o.restart(`remote configuration v${plan.version}`);
  }

  private async refuse(version: number | undefined, reason: string, problems: string[]): Promise<void> {
    this.log.warn({ version, reason, problems }, 'remote configuration refused');
    await this.report({ status: 'refused', version, reason, problems });
  }

  private async report(r: Pick<ConfigReport, 'status' | 'version' | 'hash' | 'reason' | 'problems' | 'live' | 'restart'>): Promise<void> {
    const layer = readRemoteLayer(this.o.stateDir);
    const report: ConfigReport = {
      v: PROTOCOL_VERSION, deviceId: this.o.deviceId, ...withoutUndefined(r),
      inForce: layer ? { version: layer.version, hash: layer.hash } : null, at: new Date(this.o.now()).toISOString(),
    };
    this.o.link.publishRetained(this.o.link.topics.configReported, await this.o.sign(report));
  }
}
