import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateRequestSchema, type CertificateRequest } from '../../../src/carrier/protocol.ts';
import { recordAttack } from '../../attacks/table.ts';
import type { CarrierClient } from '../carrier/helpers/carrier-client.ts';
import type { Mosquitto } from '../carrier/helpers/mosquitto.ts';
import { createPki, type ClientCert, type TestPki } from '../carrier/helpers/pki.ts';
import { until, type AgentProcess } from './agent-process.ts';
import { AgentRig, NO_CAMERA } from './agent-rig.ts';

/**
 * Certificate renewal end to end: the agent as a real process on mosquitto requiring client certificates (with the
 * CA's revocation list), provisioned with a certificate that expires in 2 days while renewal starts 30 days before
 * notAfter. The carrier stand-in answers the CSR on `cert/issued` with certificates from an openssl CA: one from a CA
 * the device does not pin is refused and changes nothing; one from the device CA is used from the next connection.
 * The broker then revokes the old certificate: the agent still connects, so it presents the new one.
 */
const DEVICE = 'term-renew';
let provisioned: ClientCert;
let provisionedBytes = { cert: '', key: '' };
const rig = new AgentRig({ deviceId: DEVICE,
  mosquitto: (devicePki) => {
    // the terminals' listener checks the device CA's revocation list (read when mosquitto starts)
    const crl = devicePki.crl();
    return { editConfig: (conf) => conf.replace('require_certificate true', `require_certificate true\ncrlfile ${crl}`) };
  },
  config: (r) => {
    // provisioned as under /etc/regterm/tls: read-only for the agent
    provisioned = r.pki.clientFor('device', DEVICE, 2);
    provisionedBytes = { cert: readFileSync(provisioned.cert, 'utf8'), key: readFileSync(provisioned.key, 'utf8') };
    chmodSync(provisioned.cert, 0o400);
    chmodSync(provisioned.key, 0o400);
    return { camera: NO_CAMERA, carrier: { drainBudgetMs: 1000 },
      mqtt: { certFile: provisioned.cert, keyFile: provisioned.key, reconnectMinMs: 200, reconnectMaxMs: 2000, certRenewBeforeDays: 30 } };
  } });
const { topics } = rig;

let dir = '';
let pki: TestPki;
let other: TestPki;
let mosquitto: Mosquitto;
let carrier: CarrierClient;
let configPath = '';
let agent: AgentProcess | undefined;
let stateDir = '';

beforeAll(async () => {
  await rig.start();
  ({ dir, pki, mosquitto, carrier, configPath, stateDir } = rig);
  mkdirSync(join(dir, 'other'));
  other = createPki(join(dir, 'other'), 'not-the-device-ca');
});

afterAll(() => rig.close());

const messagesOn = (topic: string) => carrier.messages.filter((m) => m.topic === topic);
const lastJson = <T>(topic: string): T | undefined => {
  const m = messagesOn(topic).filter((x) => x.payload).at(-1);
  return m ? JSON.parse(m.payload) as T : undefined;
};
interface Telemetry { cert: { notAfter: string; daysLeft: number; renewing: boolean; lastRefusal?: string } | null }
interface Status { state: string; reasons?: string[] }

async function issue(certificate: string): Promise<void> {
  await carrier.publish(topics.certIssued, JSON.stringify({ v: 1, deviceId: DEVICE, certificate }));
}

/** Connects with a certificate pair as a terminal would; resolves whether the broker accepted it. */
function brokerAccepts(pair: ClientCert): Promise<boolean> {
  return new Promise((resolve) => {
    const c = mqtt.connect(mosquitto.url, {
      clientId: `probe-${process.pid}`, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000,
      ca: readFileSync(pki.ca), cert: readFileSync(pair.cert), key: readFileSync(pair.key), rejectUnauthorized: true,
    });
    const done = (ok: boolean) => { c.end(true); resolve(ok); };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    c.once('close', () => done(false));
  });
}

describe('device certificate renewal', () => {
  let request: CertificateRequest;

  it('publishes a CSR when inside the margin and reports the expiring certificate', async () => {
    agent = rig.spawnAgent();
    await until(() => agent!.hasLog('agent running'), 30_000, 'agent running');
    await carrier.until(() => lastJson(topics.certCsr) !== undefined, 15_000, 'the CSR');
    request = certificateRequestSchema.parse(lastJson(topics.certCsr));
    const old = new X509Certificate(provisionedBytes.cert);
    expect(request).toMatchObject({ deviceId: DEVICE, notAfter: new Date(old.validTo).toISOString() });
    expect(request.csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    expect(statSync(join(stateDir, 'tls', 'renewal.key')).mode & 0o777).toBe(0o600);
    await carrier.until(() => lastJson<Status>(topics.status)?.reasons?.includes('certificate_expiring') === true, 15_000, 'degraded');
    await carrier.until(() => lastJson<Telemetry>(topics.telemetry)?.cert?.renewing === true, 15_000, 'telemetry');
    expect(lastJson<Telemetry>(topics.telemetry)!.cert).toMatchObject({ notAfter: request.notAfter, daysLeft: 1 });
  });

  it('refuses a certificate from a CA it does not pin and stays on its certificate', async () => {
    const connects = agent!.lines.filter((l) => l.msg === 'connected').length;
    await issue(other.signCsr(request.csr, 90));
    await until(() => agent!.hasLog('issued certificate refused'), 15_000, 'refusal');
    await carrier.until(() => lastJson<CertificateRequest>(topics.certCsr)?.refused !== undefined, 15_000, 'refusal reported');
    const refused = lastJson<CertificateRequest>(topics.certCsr)!.refused!;
    await new Promise((r) => setTimeout(r, 1000));
    const reconnected = agent!.lines.filter((l) => l.msg === 'connected').length !== connects;
    recordAttack({ area: 'certificate renewal', attack: 'certificate on cert/issued from another CA', expected: 'refused/untrusted_issuer, no reconnect',
      observed: `refused/${refused.reason}${reconnected ? ', reconnected' : ', no reconnect'}` });
    expect(refused.reason).toBe('untrusted_issuer');
    expect(reconnected).toBe(false);
    expect(existsSync(join(stateDir, 'tls', 'pending.pem'))).toBe(false);
    expect(existsSync(join(stateDir, 'tls', 'current.pem'))).toBe(false);
  });

  it('uses the certificate the device CA issued from the next connection, keeping the old files', async () => {
    const issued = pki.signCsr(request.csr, 90);
    const fresh = new X509Certificate(issued);
    await issue(issued);
    await until(() => agent!.hasLog('renewed certificate connected: now in use'), 20_000, 'switch');
    const switched = agent!.lines.filter((l) => l.msg === 'connected').at(-1)!;
    expect(switched.certificate).toBe('pending');
    expect(statSync(join(stateDir, 'tls', 'current.pem')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(stateDir, 'tls', 'renewal.key'))).toBe(false);
    expect(readFileSync(provisioned.cert, 'utf8')).toBe(provisionedBytes.cert);
    expect(readFileSync(provisioned.key, 'utf8')).toBe(provisionedBytes.key);
    // renewal done: the CSR is cleared, the status no longer says so (the test has no camera), telemetry has the new notAfter
    await carrier.until(() => messagesOn(topics.certCsr).at(-1)?.payload === '', 15_000, 'CSR cleared');
    await carrier.until(() => {
      const status = lastJson<Status>(topics.status);
      return status?.state !== 'offline' && status?.reasons?.includes('certificate_expiring') === false;
    }, 15_000, 'certificate_expiring cleared');
    const notAfter = new Date(fresh.validTo).toISOString();
    await carrier.until(() => lastJson<Telemetry>(topics.telemetry)?.cert?.notAfter === notAfter, 15_000, 'new notAfter');
    expect(lastJson<Telemetry>(topics.telemetry)!.cert).toMatchObject({ renewing: false, daysLeft: 89 });
  });

  it('connects with the new certificate once the broker revokes the old one', async () => {
    pki.crl(provisioned.cert);
    const connects = agent!.lines.filter((l) => l.msg === 'connected').length;
    await mosquitto.restart();
    // the broker refuses the revoked certificate and still accepts others from the same CA
    expect(await brokerAccepts(provisioned)).toBe(false);
    expect(await brokerAccepts(pki.client('term-probe'))).toBe(true);
    await until(() => agent!.lines.filter((l) => l.msg === 'connected').length > connects, 20_000, 'reconnect');
    const observed = agent!.lines.filter((l) => l.msg === 'connected').at(-1)!.certificate;
    recordAttack({ area: 'certificate renewal', attack: 'broker revokes the old device certificate after renewal',
      expected: 'agent connects with current', observed: `agent connects with ${String(observed)}` });
    expect(observed).toBe('current');
  });

  it('keeps using the renewed pair after a restart and does not renew again', async () => {
    agent!.child.kill('SIGTERM');
    expect((await agent!.exited).code).toBe(0);
    const before = messagesOn(topics.certCsr).length;
    agent = rig.spawnAgent();
    await until(() => agent!.hasLog('connected'), 30_000, 'connected');
    expect(agent.lines.find((l) => l.msg === 'connected')!.certificate).toBe('current');
    await until(() => agent!.hasLog('agent running'), 30_000, 'agent running');
    await new Promise((r) => setTimeout(r, 2000));
    expect(agent.hasLog('certificate expiring: renewal requested')).toBe(false);
    expect(messagesOn(topics.certCsr).slice(before).every((m) => m.payload === '')).toBe(true);
  });

  it('falls back to its certificate when the broker refuses the renewed one, reports it and asks again', async () => {
    // a wider margin makes the certificate in use due for renewal
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { mqtt: Record<string, unknown> };
    writeFileSync(configPath, JSON.stringify({ ...config, mqtt: { ...config.mqtt, certRenewBeforeDays: 365 } }));
    agent!.child.kill('SIGTERM');
    await agent!.exited;
    const before = messagesOn(topics.certCsr).length;
    agent = rig.spawnAgent();
    await carrier.until(() => messagesOn(topics.certCsr).slice(before).some((m) => m.payload), 30_000, 'a second CSR');
    const second = certificateRequestSchema.parse(JSON.parse(messagesOn(topics.certCsr).slice(before).find((m) => m.payload)!.payload));
    // the CA issues it, the broker has already revoked it (the device does not check revocation; the broker does)
    const issued = pki.signCsr(second.csr, 380);
    writeFileSync(join(dir, 'revoked.crt'), issued);
    pki.crl(join(dir, 'revoked.crt'));
    await until(() => agent!.hasLog('connected'), 30_000, 'connected');
    await until(() => agent!.subscriptions(topics.certIssued) > 0, 30_000, 'subscribed');
    const subscriptions = agent.subscriptions(topics.certIssued);
    await mosquitto.restart();
    // the test broker keeps no sessions across a restart: the certificate goes out once the agent subscribed again
    await until(() => agent!.subscriptions(topics.certIssued) > subscriptions, 30_000, 'subscribed again');
    await carrier.until(() => carrier.client.connected, 10_000, 'carrier reconnected');
    const n = messagesOn(topics.certCsr).length;
    await issue(issued);
    await carrier.until(() => messagesOn(topics.certCsr).slice(n).some((m) => m.payload
      && (JSON.parse(m.payload) as CertificateRequest).refused?.reason === 'broker_refused'), 30_000, 'the refusal reported');
    const observed = agent.lines.filter((l) => l.msg === 'connected').at(-1)!.certificate;
    recordAttack({ area: 'certificate renewal', attack: 'broker refuses the renewed certificate (revoked)', expected: 'connected with current, broker_refused reported',
      observed: `connected with ${String(observed)}, ${agent.hasLog('the broker refused the renewed certificate that the previous one still connects with: discarded') ? 'broker_refused reported' : 'not reported'}` });
    expect(observed).toBe('current');
    expect(existsSync(join(stateDir, 'tls', 'pending.pem'))).toBe(false);
    const retry = certificateRequestSchema.parse(JSON.parse(messagesOn(topics.certCsr).slice(n).filter((m) => m.payload).at(-1)!.payload));
    expect(retry.csr).not.toBe(second.csr);
    await carrier.until(() => lastJson<Telemetry>(topics.telemetry)?.cert?.lastRefusal === 'broker_refused', 15_000, 'refusal in telemetry');
  });
});
