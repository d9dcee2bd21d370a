import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { SYSTEM_CLOCK } from '../lib/clock.ts';
import { deploymentPolicyBase } from '../session/deployment-policy.ts';
import { type PolicyInput, type SessionPolicy, resolvePolicy } from '../session/policy.ts';
import { FailureRateLimiter } from '../session/rate-limiter.ts';
import { loadManifest } from '../vision/manifest.ts';
import { fusionFromManifest } from '../vision/matcher.ts';

/** What the model manifest tells the composition before the engine starts. */
export interface ManifestFacts {
  /** sha256 of the manifest: the `models` field of every result and status */
  hash: string;
  /** its calibrated thresholds, the base of the session policy */
  thresholds: { fusion: { threshold: number }; antispoofThreshold: number | undefined };
}

/**
 * The model manifest, read once here: its sha256 is the `models` field of every result and status (known before the
 * engine starts), and its calibrated thresholds are the base of the session policy. The engine verifies every model
 * against it in start().
 */
export async function manifestFacts(): Promise<ManifestFacts> {
  const { manifest, bytes } = await loadManifest();
  return {
    hash: createHash('sha256').update(bytes).digest('hex'),
    thresholds: { fusion: { threshold: fusionFromManifest(manifest).threshold }, antispoofThreshold: manifest.thresholds.antispoof?.value },
  };
}

/**
 * The session settings a remote configuration can change live: the policy base and the failure rate limiter. The
 * session shell reads both at the start of every session. Policy layers: schema defaults < manifest calibration <
 * config `session.policy` (validated by the config schema) < the carrier's request.
 */
export class SessionSettings {
  policyBase: SessionPolicy;
  limiter: FailureRateLimiter;

  constructor(config: Readonly<Config>, private readonly thresholds: ManifestFacts['thresholds']) {
    this.policyBase = this.policyFrom(config);
    this.limiter = limiterFrom(config);
  }

  /** Replaces what the changed `keys` of `config` decide; the running session keeps what it started with. */
  applyLive(config: Readonly<Config>, keys: readonly string[]): void {
    if (keys.includes('session.policy')) this.policyBase = this.policyFrom(config);
    if (keys.includes('session.maxFailures') || keys.includes('session.failureWindowS')) this.limiter = limiterFrom(config);
  }

  private policyFrom(c: Readonly<Config>): SessionPolicy {
    return resolvePolicy(c.session.policy as PolicyInput, deploymentPolicyBase(this.thresholds));
  }
}

function limiterFrom(c: Readonly<Config>): FailureRateLimiter {
  return new FailureRateLimiter(SYSTEM_CLOCK, { maxFailures: c.session.maxFailures, windowMs: c.session.failureWindowS * 1000 });
}
