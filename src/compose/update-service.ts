import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Component } from '../lib/agent.ts';
import { verifyCarrierJws } from '../carrier/carrier-jws.ts';
import { NonceFile } from '../carrier/nonce-file.ts';
import { PROTOCOL_VERSION, updateRequestSchema, type Topics, type UpdateReport, type UpdateRequest } from '../carrier/protocol.ts';
import type { Logger } from '../lib/logger.ts';
import { untrustedText } from '../lib/untrusted-text.ts';
import { fetchRelease } from '../device/update/download.ts';
import { type UpdateOutcome, acknowledgeOutcome, readOutcome, readPending, settleTrial } from '../device/update/pending.ts';
import { digestFile, parseSignature, readReleaseKeys, verifyRelease } from '../device/update/release-signature.ts';
import { removeStagingLeftovers, stageRelease, stagedPath } from '../device/update/staged.ts';
import { errorMessage } from '../lib/errors.ts';
import { withoutUndefined } from '../lib/without-undefined.ts';

/**
 * The carrier's update command (docs/release.md "The update command"): a carrier-signed `update/request` naming a
 * release tarball's URL, sha256 and version. The agent checks the command (carrier-jws.ts, schema, device, validity
 * window, a nonce never seen before), downloads the tarball and its signature while it keeps serving, checks the
 * sha256 the carrier signed and the release signature (a pinned release key, this version, this CPU), waits until no
 * session runs, refuses new sessions (`busy`) and stages the release for the privileged installer
 * (device/update/staged.ts), which switches and restarts. Every step is reported, device-signed and retained, on
 * `update/reported`.
 *
 * After a start it reports how the last update ended: `applied` when this version is the one on trial (it reached
 * READY: this component starts after READY=1), `confirmed` once the trial is settled, `rolled_back` / `failed` from
 * the outcome the update guard or the installer wrote. An outcome stays on disk until the broker acknowledged its
 * report, so a broker that is down at boot only delays it.
 */
export interface UpdateServiceOptions {
  deviceId: string;
  /** the running release's version */
  version: string;
  /** this terminal's release target (default linux-<process.arch>) */
  target?: string;
  /** <stateDir>/update: the trial state the update guard shares, the staging area and the seen nonces */
  updateDir: string;
  /** the pinned release keys (provisioning `--release-key`) */
  releaseKeysDir: string;
  link: {
    readonly topics: Topics;
    onCarrierMessage(topic: string, listener: (payload: Buffer) => void): () => void;
    publishRetained(topic: string, payload: string, delivered?: () => void): void;
  };
  carrierKeys: () => ReadonlyMap<string, KeyObject>;
  sign: (report: UpdateReport) => Promise<string>;
  /** whether a session runs now (an update waits until none does) */
  sessionBusy: () => boolean;
  logger: Logger;
  now: () => number;
}

/** An update command's validity window may not exceed this; the clock may be off by CLOCK_SKEW_MS. */
const MAX_TTL_MS = 24 * 3600_000;
const CLOCK_SKEW_MS = 30_000;
const MAX_COMMAND_BYTES = 8192;
const POLL_MS = 500;
/** The installer (regterm-update.path) takes a staged release within moments; after this the agent gives up on it. */
const INSTALL_LIMIT_MS = 15 * 60_000;
const SETTLE_CHECK_MS = 10_000;

type Report = Omit<UpdateReport, 'v' | 'deviceId' | 'running' | 'at'>;

export class UpdateService implements Component {
  readonly name = 'updates';
  private readonly log: Logger;
  private readonly nonceFile: NonceFile;
  private nonces = new Map<string, number>();
  private unsubscribe?: () => void;
  private queue: Promise<void> = Promise.resolve();
  /** the command being downloaded, verified, staged or installed (one at a time) */
  private job?: Promise<void>;
  private settleTimer?: NodeJS.Timeout;
  private stopped = false;
  /** true from staging until the restart (or the installer's failure): no new session may start */
  installing = false;

  constructor(private readonly o: UpdateServiceOptions) {
    this.log = o.logger.child({ component: 'updates' });
    this.nonceFile = new NonceFile(join(o.updateDir, 'nonces'));
  }

  async start(): Promise<void> {
    mkdirSync(this.o.updateDir, { recursive: true });
    removeStagingLeftovers(this.o.updateDir);
    const now = this.o.now();
    this.nonces = new Map([...this.nonceFile.read()].filter(([, expiresAt]) => expiresAt > now));
    this.nonceFile.rewrite(this.nonces);
    this.settle();
    this.reportState();
    this.settleTimer = setInterval(() => this.settle() && this.reportState(), SETTLE_CHECK_MS).unref();
    // staged before a restart and not yet taken by the installer: it will restart us, so no session may start
    if (existsSync(stagedPath(this.o.updateDir))) this.job = this.awaitInstaller(undefined).finally(() => { this.job = undefined; });
    this.unsubscribe = this.o.link.onCarrierMessage(this.o.link.topics.updateRequest, (payload) => {
      this.queue = this.queue.then(() => this.handle(payload)).catch((e: unknown) => {
        this.log.error({ err: errorMessage(e) }, 'update command handling failed');
      });
    });
  }

  /** A download in progress is not waited for (its directory is a leftover the next start removes). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.settleTimer);
    await this.queue;
  }

  /** Ends this version's trial when it has been READY long enough (the guard's ExecStartPost noted when); true if it did. */
  private settle(): boolean {
    return settleTrial(this.o.updateDir, this.o.version, Math.floor(this.o.now() / 1000)) !== undefined;
  }

  /**
   * Reports the last update's end (an outcome on disk, removed once the broker has the report) or, with none left,
   * that this version is on trial and reached READY.
   */
  private reportState(): void {
    const outcome = readOutcome(this.o.updateDir);
    if (outcome) {
      void this.report(outcomeReport(outcome), () => {
        if (readOutcome(this.o.updateDir)?.at !== outcome.at) return;
        acknowledgeOutcome(this.o.updateDir);
        this.log.info({ version: outcome.version, result: outcome.result }, 'update outcome reported');
        this.reportState();
      });
      return;
    }
    const pending = readPending(this.o.updateDir);
    if (pending?.version === this.o.version) void this.report({ status: 'applied', version: pending.version, previous: pending.previous || undefined });
  }

  private async handle(payload: Buffer): Promise<void> {
    if (payload.length === 0) return; // a cleared retained message
    const o = this.o;
    const signed = await verifyCarrierJws(payload, { carrierKeys: o.carrierKeys(), maxBytes: MAX_COMMAND_BYTES });
    if (!signed.ok) return this.reject(undefined, signed.reason, signed.detail);
    const parsed = updateRequestSchema.safeParse(signed.json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.reject(undefined, 'schema', untrustedText(`${issue?.path.join('.')}: ${issue?.message}`, 280));
    }
    const cmd = parsed.data;
    const now = o.now();
    const issuedAt = Date.parse(cmd.issuedAt);
    const expiresAt = Date.parse(cmd.expiresAt);
    if (cmd.deviceId !== o.deviceId) return this.reject(cmd, 'wrong_device', `for device ${cmd.deviceId}`);
    if (issuedAt - CLOCK_SKEW_MS > now) return this.reject(cmd, 'not_yet_valid', `issued at ${cmd.issuedAt}`);
    if (expiresAt + CLOCK_SKEW_MS < now) return this.reject(cmd, 'expired', `expired at ${cmd.expiresAt}`);
    if (!(expiresAt - issuedAt <= MAX_TTL_MS)) return this.reject(cmd, 'ttl_too_long', `validity window > ${MAX_TTL_MS} ms`);
    if (this.nonces.has(cmd.nonce)) return this.reject(cmd, 'replayed', 'nonce already used');
    // claimed durably before anything else happens: a command is acted on once, whatever comes after
    this.nonceFile.append(cmd.nonce, expiresAt + CLOCK_SKEW_MS);
    this.nonces.set(cmd.nonce, expiresAt + CLOCK_SKEW_MS);

    if (this.job) return this.reject(cmd, 'busy', 'another update is in progress');
    if (cmd.version === o.version) return this.reject(cmd, 'already_current', `${cmd.version} is running`);
    this.settle();
    const pending = readPending(o.updateDir);
    if (pending) return this.reject(cmd, 'trial_pending', `${pending.version} is still on trial`);
    await this.report({ status: 'accepted', nonce: cmd.nonce, version: cmd.version });
    this.log.info({ nonce: cmd.nonce, version: cmd.version, url: untrustedText(cmd.url, 200) }, 'update command accepted');
    this.job = this.install(cmd).finally(() => { this.job = undefined; });
  }

  /** Download and verify (serving meanwhile), then wait for idle, stop taking sessions and stage for the installer. */
  private async install(cmd: UpdateRequest): Promise<void> {
    const o = this.o;
    let fetched;
    try {
      fetched = await fetchRelease(cmd.url, o.updateDir);
    } catch (e: unknown) {
      return this.reject(cmd, 'download_failed', untrustedText(errorMessage(e), 280));
    }
    try {
      const { sha256 } = await digestFile(fetched.tarball);
      if (sha256 !== cmd.sha256) return await this.reject(cmd, 'bad_hash', `the download has sha256 ${sha256}`);
      const keys = await readReleaseKeys(o.releaseKeysDir);
      if (keys.size === 0) return await this.reject(cmd, 'no_release_key', `no release key pinned in ${o.releaseKeysDir}`);
      let release;
      try {
        release = await verifyRelease(fetched.tarball, parseSignature(fetched.signatureText), keys, cmd.sha256);
      } catch (e: unknown) {
        return await this.reject(cmd, 'bad_release_signature', untrustedText(errorMessage(e), 280));
      }
      if (release.version !== cmd.version) return await this.reject(cmd, 'wrong_version', `the release is ${release.version}`);
      const target = o.target ?? `linux-${process.arch}`;
      if (release.target !== target) return await this.reject(cmd, 'wrong_target', `the release is for ${release.target}, this terminal is ${target}`);

      while (o.sessionBusy() && !this.stopped) await sleep(POLL_MS);
      if (this.stopped) return;
      this.installing = true;
      stageRelease(o.updateDir, fetched.tarball, fetched.signatureText, { version: cmd.version, sha256: cmd.sha256, nonce: cmd.nonce });
      this.log.info({ version: cmd.version }, 'update staged for the installer');
      await this.report({ status: 'staged', nonce: cmd.nonce, version: cmd.version, previous: o.version });
    } finally {
      fetched.dispose();
    }
    await this.awaitInstaller(cmd);
  }

  /**
   * Waits for the installer: a success restarts the agent (this never returns then); a failure leaves an outcome,
   * reported here, and sessions resume. An installer that never comes (not installed, not running) is given up on.
   */
  private async awaitInstaller(cmd: UpdateRequest | undefined): Promise<void> {
    this.installing = true;
    const deadline = this.o.now() + INSTALL_LIMIT_MS;
    while (!this.stopped) {
      if (readOutcome(this.o.updateDir)) {
        this.reportState();
        break;
      }
      if (this.o.now() > deadline) {
        const staged = stagedPath(this.o.updateDir);
        const taken = !existsSync(staged);
        rmSync(staged, { recursive: true, force: true });
        await this.report({ status: 'failed', nonce: cmd?.nonce, version: cmd?.version, reason: 'install_timeout',
          detail: taken ? 'the installer took it but neither restarted nor failed' : 'no installer took the staged release' });
        this.log.error({ version: cmd?.version, taken }, 'update not installed in time');
        break;
      }
      await sleep(POLL_MS);
    }
    this.installing = false;
  }

  private async reject(cmd: UpdateRequest | undefined, reason: string, detail: string): Promise<void> {
    this.log.warn({ reason, detail, nonce: cmd?.nonce, version: cmd?.version }, 'update command rejected');
    await this.report({ status: 'rejected', nonce: cmd?.nonce, version: cmd?.version, reason, detail });
  }

  private async report(r: Report, delivered?: () => void): Promise<void> {
    const report = {
      v: PROTOCOL_VERSION, deviceId: this.o.deviceId, ...withoutUndefined(r), running: this.o.version,
      at: new Date(this.o.now()).toISOString(),
    } as UpdateReport;
    this.o.link.publishRetained(this.o.link.topics.updateReported, await this.o.sign(report), delivered);
  }
}

/** A trial's or an installer's outcome as a report; the guard's reason text becomes a code and a detail. */
function outcomeReport(outcome: UpdateOutcome): Report {
  const base = { version: outcome.version, previous: outcome.previous || undefined, detail: outcome.reason.slice(0, 300) };
  if (outcome.result === 'confirmed') return { status: 'confirmed', ...base };
  if (outcome.result === 'failed') return { status: 'failed', reason: 'install_failed', ...base };
  const reason = /deadline/.test(outcome.reason) ? 'no_ready_before_deadline' : /without a stable run/.test(outcome.reason) ? 'kept_restarting' : 'rolled_back';
  return { status: 'rolled_back', reason, ...base };
}


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
