import { describe, expect, it } from 'vitest';
import { deploymentPolicyBase } from '../../../src/session/deployment-policy.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';

describe('deploymentPolicyBase', () => {
  it('the deployment base carries the engine thresholds on the fused scale', () => {
    const p = resolvePolicy({}, deploymentPolicyBase({ fusion: { threshold: 2.5987 }, antispoofThreshold: 0.3134 }));
    expect(p.match).toMatchObject({ threshold: 2.5987, continuityThreshold: 3 });
    expect(p.antispoof.threshold).toBe(0.3134);
  });
});
