import { describe, expect, it } from 'vitest';
import { openCarrier } from '../../../src/carrier/open.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { recordAttack } from '../../attacks/table.ts';
import { LogSink, decision, testKeys } from '../../unit/carrier/helpers.ts';
import { deviceConfig } from './helpers/device.ts';
import { useBrokerRig } from './helpers/broker-rig.ts';

/**
 * stop() must not wait on a broker that no longer answers. mqtt.js ends a connection gracefully only once every QoS 1
 * publish is acknowledged and keeps unacknowledged ones when the connection drops (clean=false), so a hung broker, a
 * half-open connection or a session taken over while the link stops would hold the agent's shutdown forever.
 */
const carrierKeys = await testKeys();
const rig = useBrokerRig({ name: 'link-stop', carrier: false });

describe('CarrierLink.stop()', () => {
  it('returns promptly when the broker stops answering with results unacknowledged', async () => {
    const c = await openCarrier(deviceConfig(rig.root, 'dev-hung', rig.pki, rig.broker.url, carrierKeys.publicKey),
      { logger: createLogger({ destination: new LogSink() }), version: '0.1.0', modelsHash: 'm1' });
    await c.link.start(new AbortController().signal);
    for (let i = 0; i < 100 && !c.link.health().connected; i++) await new Promise((r) => setTimeout(r, 50));
    expect(c.link.health().connected).toBe(true);
    rig.broker.freeze();
    try {
      await c.link.submitResult(decision('hung-1')); // durable; its publish is never acknowledged
      const started = Date.now();
      const stopped = await Promise.race([c.close().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('hung'), 10_000))]);
      const ms = Date.now() - started;
      recordAttack({ area: 'broker', attack: 'broker frozen (SIGSTOP) with a result in flight, then agent stop',
        expected: 'stop() returns', observed: stopped === 'stopped' ? 'stop() returns' : 'stop() hangs' });
      expect(stopped).toBe('stopped');
      expect(ms).toBeLessThan(5000);
    } finally {
      rig.broker.thaw();
    }
  }, 30_000);
});
