import { generateKeyPairSync } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Topics } from '../../../src/carrier/protocol.ts';
import { CarrierStandIn, type CarrierView } from '../../../src/compose/demo/carrier-stand-in.ts';
import { EmbeddedBroker } from '../../../src/compose/demo/embedded-broker.ts';

/**
 * The demo's carrier stand-in against the demo's real broker, reached through a TCP relay the test can cut: a link
 * dropped while the agent is busy (under CPU emulation a model call stalls the event loop past the keepalive) must
 * not lose the result the device publishes meanwhile.
 */
class Relay {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: number) {
    this.server = createServer((inbound) => {
      const outbound = connect(this.target, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.once('close', () => { this.sockets.delete(s); inbound.destroy(); outbound.destroy(); });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }

  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const DEVICE = 'stand-in-test';
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('demo carrier stand-in', () => {
  it('receives the result the device published while the stand-in\'s link was down', async () => {
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    const relay = new Relay(broker.port);
    await relay.start();
    cleanup.push(() => relay.stop());
    const carrier = generateKeyPairSync('ed25519');
    const standIn = new CarrierStandIn({
      url: `mqtt://127.0.0.1:${relay.port}`, protocolVersion: 4, deviceId: DEVICE, carrierKey: carrier.privateKey,
      carrierKid: 'test-kid', devicePublicKey: generateKeyPairSync('ed25519').publicKey,
    });
    await standIn.start();
    cleanup.push(() => standIn.stop());
    const topics = new Topics(DEVICE);
    const device = await mqtt.connectAsync(broker.url, { clientId: DEVICE, protocolVersion: 4 });
    cleanup.push(() => device.endAsync(true));
    await device.subscribeAsync(topics.request, { qos: 1 });
    const requested = new Promise<string>((resolve) => device.once('message', (_t, jws) => {
      resolve((JSON.parse(Buffer.from(jws.toString().split('.')[1], 'base64url').toString()) as { sessionId: string }).sessionId);
    }));

    const view = standIn.requestSession(new Uint8Array([0xff, 0xd8, 0xff]), {});
    const sessionId = await requested;
    relay.cut();
    const result = 'not.a-signed.result';
    await device.publishAsync(topics.result(sessionId), result, { qos: 1 });
    const outcome = await Promise.race([view, new Promise<'no result'>((r) => setTimeout(() => r('no result'), 8000))]);

    expect(outcome).not.toBe('no result');
    expect((outcome as CarrierView).jws).toBe(result);
    expect((outcome as CarrierView).verified).toBe(false);
  }, 20_000);
});
