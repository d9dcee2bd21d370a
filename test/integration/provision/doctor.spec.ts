import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelease } from '../../../scripts/build.ts';
import { PATHS } from '../../../src/device/provision/layout.ts';
import { provision } from '../../../src/device/provision/provision.ts';
import { Mosquitto, freePort } from '../carrier/helpers/mosquitto.ts';
import { type TestPki, createPki } from '../carrier/helpers/pki.ts';
import { carrierKey, makeRoot } from './fixture-root.ts';

const REPO = new URL('../../../', import.meta.url).pathname;

interface Row {
  check: string;
  status: string;
  detail: string;
}

/**
 * doctor --root on a provisioned image: the installed-service rows, then the broker reached with the device
 * certificate the test CA signed from the provisioning CSR (real mosquitto, client certificates required).
 */
describe('regterm doctor --root (installed service)', () => {
  let tmp: string;
  let root: string;
  let pki: TestPki;
  let broker: Mosquitto;

  const doctor = (extra: string[] = ['--skip-models']) => {
    const run = spawnSync(process.execPath, [join(REPO, 'bin', 'regterm.js'), 'doctor', '--root', root, '--camera', 'none', '--panel', 'none', '--json', ...extra], { encoding: 'utf8' });
    const out = JSON.parse(run.stdout) as { ok: boolean; checks: Row[] };
    return { status: run.status, ok: out.ok, row: (name: string) => out.checks.find((r) => r.check === name) as Row, checks: out.checks };
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'regterm-doctor-'));
    pki = createPki(mkdtempSync(join(tmp, 'pki-')));
    broker = new Mosquitto(pki.dir, await freePort(), pki);
    root = makeRoot(join(tmp, 'root'));
    const release = join(tmp, 'release');
    await buildRelease(release);
    await provision({
      root, deviceId: 'term-0042', brokerUrl: broker.url, carrierKeys: [carrierKey(join(tmp, 'carrier.pub.pem'))],
      caFile: pki.ca, releaseDir: release, systemdDir: join(release, 'systemd'), camera: 'rpicam', panel: 'onoff',
      chown: process.getuid?.() === 0 ? lchownSync : undefined,
    });
  });
  afterAll(async () => {
    await broker.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('passes the service checks before enrollment, verifies the installed models, and says the certificate is pending', () => {
    const d = doctor([]);
    expect(d.ok).toBe(true);
    expect(d.status).toBe(0);
    for (const name of ['service unit', 'service enabled', 'update installer', 'service user', 'permissions', 'signing key', 'tls key', 'config']) {
      expect(d.row(name), name).toMatchObject({ status: 'pass' });
    }
    expect(d.row('service enabled').detail).toContain(PATHS.unit);
    expect(d.row('model detect')).toMatchObject({ status: 'pass' });
    expect(d.row('native modules')).toMatchObject({ status: 'warn' });
    expect(d.row('device certificate')).toMatchObject({ status: 'warn' });
    expect(d.row('device certificate').detail).toContain('enrollment pending');
    expect(d.row('broker')).toMatchObject({ status: 'skip' });
  });

  it('connects to the broker with the device certificate signed from the CSR', async () => {
    execFileSync('openssl', ['x509', '-req', '-in', join(root, PATHS.tlsCsr), '-CA', pki.ca, '-CAkey', join(pki.dir, 'ca.key'),
      '-out', join(root, PATHS.tlsCert), '-days', '2', '-set_serial', '0x42'], { stdio: 'ignore' });
    await broker.start();
    const d = doctor();
    expect(d.row('device certificate'), JSON.stringify(d.checks)).toMatchObject({ status: 'pass' });
    expect(d.row('broker'), d.row('broker').detail).toMatchObject({ status: 'pass' });
    expect(d.row('broker').detail).toContain(broker.url);
    await broker.stop();
    const down = doctor();
    expect(down.row('broker')).toMatchObject({ status: 'fail' });
    expect(down.status).toBe(1);
  });

  it('checks the certificate the agent renewed itself when it lasts longer than the provisioned one', async () => {
    const renewed = pki.clientFor('renewed', 'term-0042', 90);
    const tls = join(root, PATHS.stateDir, 'tls');
    mkdirSync(tls, { recursive: true, mode: 0o700 });
    writeFileSync(join(tls, 'current.pem'), `${readFileSync(renewed.key, 'utf8')}${readFileSync(renewed.cert, 'utf8')}`, { mode: 0o600 });
    await broker.start();
    const d = doctor();
    await broker.stop();
    expect(d.row('device certificate')).toMatchObject({ status: 'pass' });
    expect(d.row('device certificate').detail).toContain(`renewed (${PATHS.stateDir}/tls/current.pem), valid until ${new X509Certificate(readFileSync(renewed.cert)).validTo}`);
    expect(d.row('broker'), d.row('broker').detail).toMatchObject({ status: 'pass' });
    rmSync(tls, { recursive: true });
  });

  it('fails when the update installer is missing or not started with the agent', () => {
    const unitPath = join(root, PATHS.unit);
    const unit = readFileSync(unitPath, 'utf8');
    writeFileSync(unitPath, unit.replace(/^Wants=regterm-update\.path\n/m, ''));
    expect(doctor().row('update installer')).toMatchObject({ status: 'fail', detail: `${PATHS.unit} does not start regterm-update.path (no Wants=)` });
    writeFileSync(unitPath, unit);
    const pathUnit = readFileSync(join(root, PATHS.updatePathUnit), 'utf8');
    unlinkSync(join(root, PATHS.updatePathUnit));
    const d = doctor();
    expect(d.ok).toBe(false);
    expect(d.row('update installer').status).toBe('fail');
    expect(d.row('update installer').detail).toContain('is not installed');
    writeFileSync(join(root, PATHS.updatePathUnit), pathUnit);
    expect(doctor().row('update installer')).toMatchObject({ status: 'pass', detail: `regterm-update.path watches ${PATHS.updateDir}/staged, started with the agent` });
  });

  it('fails when a key is readable by others or the unit is not enabled', () => {
    chmodSync(join(root, PATHS.signingKey), 0o644);
    unlinkSync(join(root, PATHS.unitWants));
    const d = doctor();
    expect(d.ok).toBe(false);
    expect(d.row('signing key')).toMatchObject({ status: 'fail' });
    expect(d.row('signing key').detail).toContain('0600');
    expect(d.row('service enabled')).toMatchObject({ status: 'fail' });
    expect(d.row('tls key')).toMatchObject({ status: 'pass' });
  });
});
