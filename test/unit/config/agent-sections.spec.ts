import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';

describe('config: health and session sections (regterm run)', () => {
  it('defaults keep the broker bound above two keepalives', () => {
    const c = loadConfig();
    expect(c.health).toEqual({ frameMaxAgeMs: 10_000, brokerMaxAgeMs: 120_000 });
    expect(c.health.brokerMaxAgeMs).toBeGreaterThan(2 * c.mqtt.keepaliveS * 1000);
    expect(c.session).toEqual({ policy: {}, maxFailures: 5, failureWindowS: 600 });
  });

  it('takes the session policy base as JSON from the environment', () => {
    const c = loadConfig({ env: {
      REGTERM_SESSION_POLICY: '{"challenges":{"set":["blink","light"],"count":2}}', REGTERM_HEALTH_FRAME_MAX_AGE_MS: '4000',
    } });
    expect(c.session.policy).toEqual({ challenges: { set: ['blink', 'light'], count: 2 } });
    expect(c.health.frameMaxAgeMs).toBe(4000);
  });

  it('reports bad values in both sections at once', () => {
    let error: unknown;
    try {
      loadConfig({ env: { REGTERM_HEALTH_BROKER_MAX_AGE_MS: '10', REGTERM_SESSION_MAX_FAILURES: '0' } });
    } catch (e: unknown) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/health\.brokerMaxAgeMs \(env REGTERM_HEALTH_BROKER_MAX_AGE_MS\)/);
    expect(problems).toMatch(/session\.maxFailures \(env REGTERM_SESSION_MAX_FAILURES\)/);
  });
});

describe('config: session.policy is checked against the session policy with the rest of the config', () => {
  it('names out-of-range and inconsistent policy keys next to other problems', () => {
    let error: unknown;
    try {
      loadConfig({ env: {
        REGTERM_SESSION_POLICY: '{"challenges":{"count":99,"pauseMinMs":900,"pauseMaxMs":100}}', REGTERM_CAMERA_FPS: '0',
      } });
    } catch (e: unknown) {
      error = e;
    }
    const problems = (error as ConfigError).problems;
    expect(problems).toContain('session.policy (env REGTERM_SESSION_POLICY): challenges.count: Too big: expected number to be <=8');
    expect(problems.some((p) => p.startsWith('camera.fps'))).toBe(true);
    expect(() => loadConfig({ env: { REGTERM_SESSION_POLICY: '{"challenges":{"pauseMinMs":900,"pauseMaxMs":100}}' } }))
      .toThrow(/session\.policy \(env REGTERM_SESSION_POLICY\): pauseMinMs > pauseMaxMs/);
    expect(loadConfig({ env: { REGTERM_SESSION_POLICY: '{"challenges":{"set":["blink"],"required":[]}}' } }).session.policy)
      .toEqual({ challenges: { set: ['blink'], required: [] } });
  });
});
