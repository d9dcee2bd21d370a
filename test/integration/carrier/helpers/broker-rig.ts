import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { CarrierClient } from './carrier-client.ts';
import { Mosquitto, freePort, type MosquittoOptions } from './mosquitto.ts';
import { createPki, type TestPki } from './pki.ts';

export type CarrierClientOptions = ConstructorParameters<typeof CarrierClient>[3];

export interface BrokerRigOptions {
  /** names the temporary directory (`regterm-<name>-`) */
  name: string;
  /** the carrier stand-in's options (its defaults when absent); `false` starts none */
  carrier?: CarrierClientOptions | false;
  /** what the carrier stand-in subscribes to (every device by default) */
  carrierFilter?: string;
  /** the carrier stand-in connects on the carrier backends' listener instead of the terminals' */
  carrierListener?: boolean;
  /** the broker's options, made once the PKI exists (e.g. its revocation list) */
  mosquitto?: (pki: TestPki) => MosquittoOptions;
}

/**
 * The broker side of a test: a temporary directory, a throwaway PKI in `<root>/pki`, the documented mosquitto
 * (TLS, client certificates, per-device ACL) and the carrier stand-in connected to it. `close()` undoes all of it.
 */
export interface BrokerRig {
  root: string;
  pki: TestPki;
  broker: Mosquitto;
  /** the carrier stand-in (throws when the rig was started without one) */
  readonly carrier: CarrierClient;
  close(): Promise<void>;
}

export async function startBrokerRig(options: BrokerRigOptions): Promise<BrokerRig> {
  const root = mkdtempSync(join(tmpdir(), `regterm-${options.name}-`));
  let broker: Mosquitto | undefined;
  let carrier: CarrierClient | undefined;
  const close = async (): Promise<void> => {
    await carrier?.stop();
    broker?.thaw(); // a test may leave it frozen
    await broker?.stop();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    mkdirSync(join(root, 'pki'));
    const pki = createPki(join(root, 'pki'));
    broker = new Mosquitto(root, await freePort(), pki, options.mosquitto?.(pki));
    await broker.start();
    if (options.carrier !== false) {
      const url = options.carrierListener ? broker.carrierUrl : broker.url;
      carrier = new CarrierClient(url, pki.ca, pki.client('carrier'), options.carrier);
      await carrier.start(options.carrierFilter);
    }
    return {
      root, pki, broker, close,
      get carrier(): CarrierClient {
        if (!carrier) throw new Error('this broker rig has no carrier stand-in');
        return carrier;
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A broker rig for the enclosing suite: started before its tests, closed after them (read its fields in tests). */
export function useBrokerRig(options: BrokerRigOptions): BrokerRig {
  let rig: BrokerRig | undefined;
  beforeAll(async () => {
    rig = await startBrokerRig(options);
  });
  afterAll(() => rig?.close());
  const started = (): BrokerRig => {
    if (!rig) throw new Error('the broker rig starts before the suite\'s tests');
    return rig;
  };
  return {
    get root() { return started().root; },
    get pki() { return started().pki; },
    get broker() { return started().broker; },
    get carrier() { return started().carrier; },
    close: () => started().close(),
  };
}
