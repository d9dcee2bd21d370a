import type { PolicyInput } from './policy.ts';

/**
 * The deployment base policy for the face engine (docs/session.md "Deployment base"): the manifest's calibrated match
 * threshold (fused z-units, the scale of `engine.compare().similarity`), continuity 3.0 on the same scale (between
 * the same-person and other-person scores of turning faces) and the anti-spoof threshold for the session aggregate.
 */
export function deploymentPolicyBase(engine: { fusion: { threshold: number }; antispoofThreshold: number | undefined }): PolicyInput {
  return {
    match: { threshold: engine.fusion.threshold, continuityThreshold: 3.0 },
    ...(engine.antispoofThreshold === undefined ? {} : { antispoof: { threshold: engine.antispoofThreshold } }),
  };
}
