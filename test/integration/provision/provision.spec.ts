import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelease } from '../../../scripts/build.ts';
import { keyId } from '../../../src/carrier/keys.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { PATHS } from '../../../src/device/provision/layout.ts';
import { provision } from '../../../src/device/provision/provision.ts';
import { brokerCa, carrierKey, makeRoot, snapshot } from './fixture-root.ts';

const REPO = new URL('../../../', import.meta.url).pathname;
const CLI = join(REPO, 'bin', 'regterm.js');

interface Result {
  deviceId: string;
  changes: { path: string; action: string }[];
  releaseInstalled?: string;
  signingKey: { kid: string; publicKeyPem: string };
  csrPem: string;
  ownershipSkipped: boolean;
  carrierKids: string[];
}

const mode = (p: string) => statSync(p).mode & 0o7777;
const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

describe('regterm provision into an image root', () => {
  let tmp: string;
  let root: string;
  let release: string;
  let carrier: string;
  let ca: string;
  const at = (p: string) => join(root, p);

  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [CLI, 'provision', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const args = (deviceId = 'term-0042') => ['--root', root, '--device-id', deviceId, '--broker', 'mqtts://broker.test:8883',
    '--carrier-key', carrier, '--ca', ca, '--release', release, '--json'];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'regterm-provision-'));
    root = makeRoot(join(tmp, 'root'));
    release = join(tmp, 'release');
    await buildRelease(release);
    carrier = carrierKey(join(tmp, 'carrier.pub.pem'));
    ca = brokerCa(join(tmp, 'ca.pem'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  let first: Result;

  it('lays out the service user, keys, CSR, config, release and units', () => {
    const run = cli(args());
    expect(run.status, run.stderr).toBe(0);
    first = JSON.parse(run.stdout) as Result;
    expect(first.deviceId).toBe('term-0042');
    expect(first.ownershipSkipped).toBe(process.getuid?.() !== 0);
    expect(first.changes.map((c) => c.path)).toEqual(expect.arrayContaining([PATHS.signingKey, PATHS.tlsKey, PATHS.tlsCsr, PATHS.config,
      `${PATHS.releases}/0.1.0/dist/regterm.mjs`, PATHS.current, PATHS.pathLink, PATHS.updateGuard, PATHS.updateDir, PATHS.unit, PATHS.unitWants, PATHS.udevRules]));
    // side by side, like an update: releases/<version>, `current` relative (resolves in the image), regterm on PATH
    expect(first.releaseInstalled).toBe('0.1.0');
    expect(readlinkSync(at(PATHS.current))).toBe('releases/0.1.0');
    expect(readlinkSync(at(PATHS.pathLink))).toBe(PATHS.launcher);
    expect(existsSync(at(PATHS.bundle))).toBe(true);
    expect(mode(at(PATHS.launcher))).toBe(0o755);
    expect(mode(at(PATHS.updateGuard))).toBe(0o755);
    expect(mode(at(PATHS.updateDir))).toBe(0o700);
    expect(readlinkSync(at(PATHS.unitWants))).toBe(PATHS.unit);
    expect(readFileSync(at(PATHS.unit), 'utf8')).toBe(readFileSync(join(REPO, 'systemd', 'regterm.service'), 'utf8'));
    expect(readFileSync(at(PATHS.udevRules), 'utf8')).toBe(readFileSync(join(REPO, 'systemd', '60-regterm.rules'), 'utf8'));
    // the installer of a release the agent staged after the carrier's update command (docs/release.md)
    expect(readFileSync(at(PATHS.updatePathUnit), 'utf8')).toBe(readFileSync(join(REPO, 'systemd', 'regterm-update.path'), 'utf8'));
    expect(readFileSync(at(PATHS.updateServiceUnit), 'utf8')).toBe(readFileSync(join(REPO, 'systemd', 'regterm-update.service'), 'utf8'));
  });

  it('adds each account entry exactly once, with a free system id and the video and gpio groups', () => {
    const passwd = readFileSync(at('/etc/passwd'), 'utf8');
    const group = readFileSync(at('/etc/group'), 'utf8');
    const [user] = lines(passwd, 'regterm:');
    expect(lines(passwd, 'regterm:')).toHaveLength(1);
    const [, , uid, gid, , home, shell] = user.split(':');
    expect(Number(uid)).toBeLessThan(998); // 998 and 999 are taken in the fixture
    expect(Number(uid)).toBeGreaterThanOrEqual(100);
    expect([home, shell]).toEqual(['/var/lib/regterm', '/usr/sbin/nologin']);
    expect(lines(group, 'regterm:')).toEqual([`regterm:x:${gid}:`]);
    expect(lines(group, 'video:')).toEqual(['video:x:44:pi,regterm']);
    expect(lines(group, 'gpio:')).toHaveLength(1);
    expect(lines(group, 'gpio:')[0]).toMatch(/^gpio:x:\d+:regterm$/);
    expect(lines(readFileSync(at('/etc/shadow'), 'utf8'), 'regterm:')).toEqual(['regterm:!:::::::']);
    expect(lines(readFileSync(at('/etc/gshadow'), 'utf8'), 'video:')).toEqual(['video:*::pi,regterm']);
    expect(mode(at('/etc/shadow'))).toBe(0o640);
    expect(mode(at('/etc/passwd'))).toBe(0o644);
    if (process.getuid?.() === 0) {
      expect(statSync(at(PATHS.signingKey)).uid).toBe(Number(uid));
      expect(statSync(at(PATHS.config)).gid).toBe(Number(gid));
      expect(statSync(at(PATHS.config)).uid).toBe(0);
    }
  });

  it('sets the modes: private keys 0600, config 0640, state 0700', () => {
    expect(mode(at(PATHS.signingKey))).toBe(0o600);
    expect(mode(at(PATHS.tlsKey))).toBe(0o600);
    expect(mode(at(PATHS.config))).toBe(0o640);
    expect(mode(at(PATHS.configDir))).toBe(0o750);
    expect(mode(at(PATHS.tlsDir))).toBe(0o750);
    expect(mode(at(PATHS.stateDir))).toBe(0o700);
    expect(mode(at(PATHS.tlsCsr))).toBe(0o644);
    expect(mode(at(PATHS.bundle))).toBe(0o644);
  });

  it('writes a config that loadConfig accepts, naming the provisioned files', () => {
    const config = loadConfig({ file: at(PATHS.config) });
    expect(config.deviceId).toBe('term-0042');
    expect(config.mqtt).toMatchObject({ url: 'mqtts://broker.test:8883', caFile: PATHS.tlsCa, certFile: PATHS.tlsCert, keyFile: PATHS.tlsKey });
    expect(config.identity.signingKeyFile).toBe(PATHS.signingKey);
    expect(config.camera.backend).toBe('rpicam');
    expect(config.panel.backend).toBe('gpiod'); // the default: the character device, with the buttons' pull-up
  });

  it('makes keys that parse, a CSR that verifies for the TLS key, and prints the enrollment data', async () => {
    const signing = createPrivateKey(readFileSync(at(PATHS.signingKey), 'utf8'));
    expect(signing.asymmetricKeyType).toBe('ed25519');
    expect(first.signingKey.kid).toBe(await keyId(createPublicKey(signing)));
    expect(first.signingKey.publicKeyPem).toBe(createPublicKey(signing).export({ format: 'pem', type: 'spki' }));
    const tlsKey = createPrivateKey(readFileSync(at(PATHS.tlsKey), 'utf8'));
    expect(tlsKey.asymmetricKeyType).toBe('ec');
    const verify = spawnSync('openssl', ['req', '-in', at(PATHS.tlsCsr), '-noout', '-verify', '-subject'], { encoding: 'utf8' });
    expect(verify.status, verify.stderr).toBe(0);
    expect(`${verify.stdout}${verify.stderr}`).toMatch(/verify OK/i);
    expect(verify.stdout).toMatch(/CN\s*=\s*term-0042/);
    const csrPub = execFileSync('openssl', ['req', '-in', at(PATHS.tlsCsr), '-noout', '-pubkey'], { encoding: 'utf8' });
    expect(csrPub).toBe(createPublicKey(tlsKey).export({ format: 'pem', type: 'spki' }));
    expect(first.csrPem).toBe(readFileSync(at(PATHS.tlsCsr), 'utf8'));
    const pinned = readFileSync(at(`${PATHS.carrierKeys}/${first.carrierKids[0]}.pem`), 'utf8');
    expect(pinned).toBe(readFileSync(carrier, 'utf8'));
    expect(readFileSync(at(PATHS.tlsCa), 'utf8')).toBe(readFileSync(ca, 'utf8'));
  });

  it('changes nothing on a second run: same bytes, modes, owners and inodes everywhere', () => {
    const before = snapshot(root);
    const again = cli(args());
    expect(again.status, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout) as Result;
    expect(second.changes).toEqual([]);
    expect(second.signingKey).toEqual(first.signingKey);
    expect(snapshot(root)).toEqual(before);
    const text = cli(args().filter((a) => a !== '--json'));
    expect(text.stdout).toContain('already provisioned, nothing changed');
    expect(text.stdout).toContain(first.signingKey.publicKeyPem.trim());
    expect(text.stdout).toContain('-----BEGIN CERTIFICATE REQUEST-----');
    expect(text.stdout).toContain('apt install gpiod');
  });

  it('repairs a loosened key mode without touching the key bytes', () => {
    const key = readFileSync(at(PATHS.signingKey));
    chmodSync(at(PATHS.signingKey), 0o644);
    const run = cli(args());
    expect(run.status, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as Result).changes).toEqual([{ path: PATHS.signingKey, action: 'mode' }]);
    expect(mode(at(PATHS.signingKey))).toBe(0o600);
    expect(readFileSync(at(PATHS.signingKey))).toEqual(key);
  });

  it('keeps site settings in conf.d and pins exactly the given carrier keys (a dropped key is removed and listed)', () => {
    const site = `${PATHS.confDir}/50-site.json`;
    writeFileSync(at(site), JSON.stringify({ camera: { strideAlign: 128 }, panel: { leds: { look: 4 } } }));
    const next = carrierKey(join(tmp, 'carrier-next.pub.pem'));
    const rotate = cli(['--root', root, '--device-id', 'term-0042', '--broker', 'mqtts://broker.test:8883',
      '--carrier-key', next, '--release', release, '--json']);
    expect(rotate.status, rotate.stderr).toBe(0);
    const rotated = JSON.parse(rotate.stdout) as Result & { changes: Array<{ path: string; action: string }> };
    const oldKey = `${PATHS.carrierKeys}/${first.carrierKids[0]}.pem`;
    expect(rotated.changes).toEqual(expect.arrayContaining([
      { path: oldKey, action: 'removed' }, { path: `${PATHS.carrierKeys}/${rotated.carrierKids[0]}.pem`, action: 'created' }]));
    expect(existsSync(at(oldKey))).toBe(false);
    expect(readdirSync(at(PATHS.carrierKeys))).toEqual([`${rotated.carrierKids[0]}.pem`]);
    expect(JSON.parse(readFileSync(at(site), 'utf8'))).toEqual({ camera: { strideAlign: 128 }, panel: { leds: { look: 4 } } });

    // The effective configuration of the root: the site layer over config.json, the unit's environment on top.
    const shown = spawnSync(process.execPath, [CLI, 'config', '--root', root, '--json'], { encoding: 'utf8' });
    expect(shown.status, shown.stderr).toBe(0);
    const { config, sources } = JSON.parse(shown.stdout) as { config: { camera: { strideAlign: number; backend: string } }; sources: Record<string, string> };
    expect(config.camera.strideAlign).toBe(128);
    expect(sources['camera.strideAlign']).toBe(at(site));
    expect(sources['camera.backend']).toBe(at(PATHS.config));
    expect(sources.stateDir).toBe('env REGTERM_STATE_DIR');
    expect(sources['mqtt.keepaliveS']).toBe('default');

    // back to the original key set for the tests below
    const back = cli(args());
    expect(back.status, back.stderr).toBe(0);
    rmSync(at(site));
  });

  it('pins exactly the given release keys (--release-key), and leaves them alone when none is given', () => {
    const keyA = carrierKey(join(tmp, 'release-a.pub.pem'));
    const keyB = carrierKey(join(tmp, 'release-b.pub.pem'));
    const pin = (keys: string[]) => cli([...args(), ...keys.flatMap((k) => ['--release-key', k])]);
    const both = pin([keyA, keyB]);
    expect(both.status, both.stderr).toBe(0);
    const [kidA, kidB] = (JSON.parse(both.stdout) as { releaseKids: string[] }).releaseKids;
    expect(readdirSync(at(PATHS.releaseKeys)).sort()).toEqual([`${kidA}.pem`, `${kidB}.pem`].sort());
    expect(mode(at(`${PATHS.releaseKeys}/${kidA}.pem`))).toBe(0o644);
    const rotated = pin([keyB]);
    expect(rotated.status, rotated.stderr).toBe(0);
    expect((JSON.parse(rotated.stdout) as Result).changes).toEqual(expect.arrayContaining([{ path: `${PATHS.releaseKeys}/${kidA}.pem`, action: 'removed' }]));
    expect(readdirSync(at(PATHS.releaseKeys))).toEqual([`${kidB}.pem`]);
    const again = cli(args());
    expect(again.status, again.stderr).toBe(0);
    expect(readdirSync(at(PATHS.releaseKeys))).toEqual([`${kidB}.pem`]);
  });

  it('installs the certificate the CA issued for the CSR (--cert), and refuses one for another key or device', () => {
    const issue = (csr: string, out: string) => execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', `${ca}.key`,
      '-CAcreateserial', '-out', out, '-days', '2'], { stdio: 'ignore' });
    issue(at(PATHS.tlsCsr), join(tmp, 'device.crt'));
    const run = cli([...args(), '--cert', join(tmp, 'device.crt')]);
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(at(PATHS.tlsCert), 'utf8')).toBe(readFileSync(join(tmp, 'device.crt'), 'utf8'));
    expect(mode(at(PATHS.tlsCert))).toBe(0o644);
    const other = join(tmp, 'other.key');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', other,
      '-out', `${other}.csr`, '-subj', '/CN=term-0042'], { stdio: 'ignore' });
    issue(`${other}.csr`, join(tmp, 'other.crt'));
    const wrong = cli([...args(), '--cert', join(tmp, 'other.crt')]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/not issued for this terminal's TLS key/);
    expect(readFileSync(at(PATHS.tlsCert), 'utf8')).toBe(readFileSync(join(tmp, 'device.crt'), 'utf8'));
    rmSync(at(PATHS.tlsCert));
  });

  it('starts the service only on the live system (--start with an image root is refused before writing)', () => {
    const image = makeRoot(join(tmp, 'start-image'));
    const run = cli(['--root', image, '--device-id', 'term-0046', '--broker', 'mqtts://b:8883', '--carrier-key', carrier, '--ca', ca, '--no-release', '--start']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--start needs --root \//);
    expect(existsSync(join(image, PATHS.configDir))).toBe(false);
  });

  it('refuses to re-provision the root as another device, and leaves it untouched', () => {
    const before = snapshot(root);
    const run = cli(args('term-9999'));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/provisioned as 'term-0042'/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
    expect(snapshot(root)).toEqual(before);
  });

  it('rejects bad input with one line before writing: a non-Ed25519 carrier key, a broker that is not a URL, a device id that is not a topic level', () => {
    const bad = cli(['--root', root, '--device-id', 'term-0042', '--broker', 'mqtts://b:8883', '--carrier-key', ca, '--no-release']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/not a PEM public key|expected ed25519/);
    const url = cli(['--root', root, '--device-id', 'term-0042', '--broker', 'broker:8883', '--carrier-key', carrier, '--no-release']);
    expect(url.status).toBe(2);
    expect(url.stderr).toMatch(/--broker must be/);
    const fresh = makeRoot(join(tmp, 'fresh'));
    const id = cli(['--root', fresh, '--device-id', 'a/CN=evil', '--broker', 'mqtts://b:8883', '--carrier-key', carrier, '--no-release']);
    expect(id.status).toBe(2);
    expect(id.stderr).toMatch(/deviceId/);
    expect(existsSync(join(fresh, PATHS.configDir))).toBe(false); // refused before anything was written
  });

  it('refuses a first run without --ca before writing anything (the agent pins the broker CA)', () => {
    const fresh = makeRoot(join(tmp, 'no-ca'));
    const run = cli(['--root', fresh, '--device-id', 'term-0045', '--broker', 'mqtts://b:8883', '--carrier-key', carrier, '--no-release']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--ca CA\.pem is required/);
    expect(existsSync(join(fresh, PATHS.configDir))).toBe(false);
  });

  it('without chown (a non-root run) lays out the same tree and says ownership was skipped', async () => {
    const other = makeRoot(join(tmp, 'unowned'));
    const result = await provision({
      root: other, deviceId: 'term-0043', brokerUrl: 'mqtts://broker.test:8883', carrierKeys: [carrier], caFile: ca,
      systemdDir: join(REPO, 'systemd'), camera: 'ffmpeg', panel: 'sim',
    });
    expect(result.ownershipSkipped).toBe(true);
    expect(result.releaseInstalled).toBeUndefined();
    expect(mode(join(other, PATHS.signingKey))).toBe(0o600);
    expect(statSync(join(other, PATHS.signingKey)).uid).toBe(process.getuid?.());
    expect(loadConfig({ file: join(other, PATHS.config) }).mqtt.caFile).toBe(PATHS.tlsCa);
  });

  it('scripts/provision takes its defaults from the environment (flashing pipelines)', () => {
    const other = makeRoot(join(tmp, 'scripted'));
    const run = spawnSync(join(REPO, 'scripts', 'provision'), ['--no-release', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, REGTERM_PROVISION_ROOT: other, REGTERM_DEVICE_ID: 'term-0044', REGTERM_BROKER: 'mqtts://b.test:8883', REGTERM_CARRIER_KEY: carrier, REGTERM_CA: ca },
    });
    expect(run.status, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as Result).deviceId).toBe('term-0044');
    expect(loadConfig({ file: join(other, PATHS.config) }).deviceId).toBe('term-0044');
  });
});
