import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHS } from '../../../src/device/provision/layout.ts';
import { buildRelease } from '../../../scripts/build.ts';
import { installFromLock } from '../release/install.ts';
import { brokerCa, carrierKey } from './fixture-root.ts';

const REPO = new URL('../../../', import.meta.url).pathname;
const MARKER = '.regterm-live-root-test';

/**
 * `provision --root /` on a live system, for real (useradd, groupadd, chown), without touching this machine: each run
 * is in a private mount namespace where copies of /etc, /opt, /var/lib and /usr/local/bin are bind-mounted over the real ones. The
 * script refuses to run provision unless the marker file proves /etc is the copy. Needs root (CAP_SYS_ADMIN).
 */
describe('regterm provision --root / (live system, useradd)', () => {
  let tmp: string;
  let etc: string;
  let key: string;
  let ca: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'regterm-live-'));
    await buildRelease(join(tmp, 'release'));
    installFromLock(join(tmp, 'release'));
    etc = join(tmp, 'etc');
    execFileSync('cp', ['-a', '/etc', etc]);
    writeFileSync(join(etc, MARKER), '');
    // plain Debian: no gpio group yet, no regterm user (the copy may come from a machine that has either)
    for (const name of ['group', 'gshadow']) {
      const p = join(etc, name);
      writeFileSync(p, readFileSync(p, 'utf8').split('\n').filter((l) => !/^(gpio|regterm):/.test(l)).join('\n'));
    }
    for (const name of ['passwd', 'shadow']) {
      const p = join(etc, name);
      writeFileSync(p, readFileSync(p, 'utf8').split('\n').filter((l) => !l.startsWith('regterm:')).join('\n'));
    }
    mkdirSync(join(tmp, 'opt'));
    mkdirSync(join(tmp, 'varlib'));
    mkdirSync(join(tmp, 'bin')); // /usr/local/bin, where provisioning links `regterm`
    key = carrierKey(join(tmp, 'carrier.pub.pem'));
    ca = brokerCa(join(tmp, 'ca.pem'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** Runs the regterm CLI with /etc, /opt, /var/lib replaced by the test's copies (private mount namespace). */
  const inNamespace = (args: string[]) => {
    const script = [
      'set -e',
      `mount --bind "${etc}" /etc`,
      `mount --bind "${join(tmp, 'opt')}" /opt`,
      `mount --bind "${join(tmp, 'varlib')}" /var/lib`,
      `mount --bind "${join(tmp, 'bin')}" /usr/local/bin`,
      `[ -f /etc/${MARKER} ] || { echo "bind mount did not take: refusing" >&2; exit 99; }`,
      `exec "${process.execPath}" "${join(REPO, 'bin', 'regterm.js')}" "$@"`,
    ].join('\n');
    return spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...args], { encoding: 'utf8' });
  };
  const provisionArgs = () => ['provision', '--root', '/', '--device-id', 'live-1', '--broker', 'mqtts://b.test:8883', '--carrier-key', key, '--ca', ca, '--release', join(tmp, 'release'), '--json'];

  it('creates the system user with useradd, owns the keys by it, and a second run changes nothing', () => {
    const first = inNamespace(provisionArgs());
    expect(first.status, first.stderr).toBe(0);
    const passwd = readFileSync(join(etc, 'passwd'), 'utf8').split('\n').filter((l) => l.startsWith('regterm:'));
    expect(passwd).toHaveLength(1);
    const [, , uid, gid, , , shell] = passwd[0].split(':');
    expect(Number(uid)).toBeLessThan(1000);
    expect(shell).toBe('/usr/sbin/nologin');
    const group = readFileSync(join(etc, 'group'), 'utf8');
    expect(group).toMatch(/^gpio:x:\d+:regterm$/m);
    expect(group).toMatch(/^video:x:\d+:(.*,)?regterm$/m);
    expect(group).toMatch(new RegExp(`^regterm:x:${gid}:`, 'm'));
    const st = execFileSync('stat', ['-c', '%a %u:%g', join(etc, 'regterm', 'device-key.pem')], { encoding: 'utf8' }).trim();
    expect(st).toBe(`600 ${uid}:${gid}`);
    const again = inNamespace(provisionArgs());
    expect(again.status, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { changes: unknown[] }).changes).toEqual([]);
  });

  // The namespace's /etc is a copy systemd never reads, so a start fails here in any case: at daemon-reload without a
  // running systemd (CI), at the restart of a unit the host does not have otherwise. What is checked: --start runs
  // after provisioning and names the step that failed.
  it('--start asks systemd after provisioning and names the step that failed', () => {
    const r = inNamespace([...provisionArgs(), '--start']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/provision --start: (systemctl|udevadm) [a-z-]+( [a-z.-]+)? failed/);
  });

  it('doctor (no --root) finds the installed unit, checks the live service and loads the native modules', () => {
    const d = inNamespace(['doctor', '--camera', 'none', '--panel', 'none', '--skip-models', '--json']);
    const checks = (JSON.parse(d.stdout) as { checks: { check: string; status: string; detail: string }[] }).checks;
    const status = Object.fromEntries(checks.map((c) => [c.check, c.status]));
    expect(status).toMatchObject({ 'service unit': 'pass', 'service enabled': 'pass', 'service user': 'pass', permissions: 'pass',
      'signing key': 'pass', 'tls key': 'pass', config: 'pass', 'native modules': 'pass' });
    expect(checks.find((c) => c.check === 'native modules')?.detail).toMatch(/^5 loaded from \/opt\/regterm/);
    expect(checks.find((c) => c.check === 'service unit')?.detail).toContain(`runs ${PATHS.launcher} (${PATHS.current} -> releases/0.1.0)`);
    expect(readlinkSync(join(tmp, 'bin', 'regterm'))).toBe(PATHS.launcher);
  });
});
