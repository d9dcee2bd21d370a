import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_RUNTIME_VERSION } from '../../../scripts/release-target.ts';
import { PATHS } from '../../../src/device/provision/layout.ts';
import { applyRelease, verifyReleaseTree } from '../../../src/device/update/install.ts';
import { parseSignature } from '../../../src/device/update/release-signature.ts';
import { brokerCa, carrierKey, makeRoot } from '../provision/fixture-root.ts';

const REPO = new URL('../../../', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The installable tarball, built for this machine's CPU (linux-x64 here) by `npm run build -- --target` and run from
 * where it was unpacked with nothing else: its launcher, its Node, its native modules. The same code builds the arm64
 * tarball, which scripts/release-arm64-check runs under qemu (minutes; run on every release, not in npm test).
 */
describe(`release tarball (npm run build -- --target linux-${process.arch})`, () => {
  let tmp: string;
  let tarball: string;
  let rel: string;
  let summary: { tarballBytes: number; nativeFiles: string[]; kid: string };

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'regterm-tarball-'));
    execFileSync(process.execPath, [join(REPO, 'bin', 'regterm.js'), 'release', 'keygen', '--out', join(tmp, 'keys')], { stdio: 'ignore' });
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(REPO, 'scripts', 'build.ts'), '--target', `linux-${process.arch}`,
      '--out', join(tmp, 'dist'), '--sign-key', join(tmp, 'keys', 'release.key.pem')], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    summary = JSON.parse(out) as typeof summary;
    tarball = join(tmp, 'dist', `regterm-${VERSION}-linux-${process.arch}.tar.gz`);
    mkdirSync(join(tmp, 'x'));
    execFileSync('tar', ['-xzf', tarball, '-C', join(tmp, 'x')]);
    rel = join(tmp, 'x', `regterm-${VERSION}`);
  }, 900_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const env = () => ({ PATH: process.env.PATH, HOME: tmp });

  it('holds one folder regterm-<version>/ that matches its RELEASE.json, with a signature beside it', () => {
    expect(readdirSync(join(tmp, 'x'))).toEqual([`regterm-${VERSION}`]);
    const info = verifyReleaseTree(rel, { version: VERSION, target: `linux-${process.arch}` });
    expect(Object.keys(info.files)).toEqual(expect.arrayContaining(['regterm', 'node/bin/node', 'dist/regterm.mjs', 'models/manifest.json']));
    const verify = spawnSync(join(rel, 'regterm'), ['release', 'verify', tarball, '--key', join(tmp, 'keys', 'release.pub.pem')], { encoding: 'utf8', env: env() });
    expect(verify.status, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ version: VERSION, kid: summary.kid });
  });

  it('carries native files for this CPU only (`file`), no symlinks, and a Node >= 20.9 of its own', () => {
    const want = process.arch === 'arm64' ? 'ARM aarch64' : 'x86-64';
    const elves = execFileSync('sh', ['-c', `find "${rel}" -type f -exec file {} + | grep ': *ELF'`], { encoding: 'utf8' }).trim().split('\n');
    expect(elves.length).toBe(summary.nativeFiles.length);
    expect(elves.length).toBeGreaterThanOrEqual(8);
    for (const line of elves) expect(line).toContain(want);
    expect(execFileSync('find', [rel, '-type', 'l'], { encoding: 'utf8' })).toBe('');
    const version = spawnSync(join(rel, 'node', 'bin', 'node'), ['--version'], { encoding: 'utf8' });
    expect(version.stdout.trim()).toBe(`v${NODE_RUNTIME_VERSION}`);
  });

  // The addons are built for the shipped Node 22's ABI: under the system's Node 20 they would not load.
  it('runs doctor through its launcher: every native module loads in the shipped Node, every model verifies', () => {
    const d = spawnSync(join(rel, 'regterm'), ['doctor', '--camera', 'none', '--panel', 'none', '--data-dir', tmp, '--json'], { encoding: 'utf8', env: env() });
    const report = JSON.parse(d.stdout) as { ok: boolean; checks: { check: string; status: string; detail: string }[] };
    expect(report.ok, d.stdout).toBe(true);
    expect(report.checks.find((c) => c.check === 'native modules')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/^5 loaded from /) });
    expect(report.checks.filter((c) => c.check.startsWith('model ')).every((c) => c.status === 'pass')).toBe(true);
  });

  it('provisions an image from the unpacked tarball (releases/<version>, current, regterm on PATH) and updates into it', async () => {
    const root = makeRoot(join(tmp, 'image'));
    const p = spawnSync(join(rel, 'regterm'), ['provision', '--root', root, '--device-id', 'tar-1', '--broker', 'mqtts://b.test:8883',
      '--carrier-key', carrierKey(join(tmp, 'carrier.pub.pem')), '--ca', brokerCa(join(tmp, 'ca.pem')),
      '--release-key', join(tmp, 'keys', 'release.pub.pem'), '--json'], { encoding: 'utf8', env: env() });
    expect(p.status, p.stderr).toBe(0);
    expect(readlinkSync(join(root, PATHS.current))).toBe(`releases/${VERSION}`);
    expect(readlinkSync(join(root, PATHS.pathLink))).toBe(PATHS.launcher);
    verifyReleaseTree(join(root, PATHS.current), { version: VERSION }); // installed byte for byte
    const help = spawnSync(join(root, PATHS.launcher), ['--help'], { encoding: 'utf8', env: env() });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^ {2}update /m);

    // the same tarball through `update apply` onto an image without a release: unpacked, verified, current
    const fresh = join(tmp, 'fresh');
    mkdirSync(join(fresh, PATHS.releaseKeys), { recursive: true });
    execFileSync('cp', [join(root, PATHS.releaseKeys, readdirSync(join(root, PATHS.releaseKeys))[0]), join(fresh, PATHS.releaseKeys)]);
    const r = await applyRelease({ root: fresh, tarball, signature: parseSignature(readFileSync(`${tarball}.sig`, 'utf8')), restart: () => undefined });
    expect(r).toMatchObject({ status: 'switched', version: VERSION });
    verifyReleaseTree(join(fresh, PATHS.current), { version: VERSION });
    expect(existsSync(join(fresh, PATHS.current, 'node', 'bin', 'node'))).toBe(true);
  });
});
