import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTERNALS, buildRelease } from '../../../scripts/build.ts';
import { type PackageLock, lockClosure, resolveLockPath } from '../../../scripts/release-lock.ts';
import { COMMANDS } from '../../../src/cli/commands.ts';
import { brokerCa, carrierKey, makeRoot } from '../provision/fixture-root.ts';
import { installFromLock } from './install.ts';

const REPO = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
const SAMPLE = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo', 'sample1.jpg');
const repoLock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as PackageLock;

const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('release layout (npm run build)', () => {
  let tmp: string;
  let release: string;
  let summary: Record<string, unknown>;

  // The release is built into a tmp dir and run from there with only its own lock installed: anything that resolved
  // from the repository (sources, models, dev dependencies) by accident would fail here.
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'regterm-release-'));
    release = join(tmp, 'regterm');
    summary = await buildRelease(release);
    cpSync(release, join(tmp, 'bare'), { recursive: true }); // as a flashing host has it: no node_modules
    installFromLock(release);
    // what npm runs after `npm ci` (the release package.json's postinstall)
    const pkg = JSON.parse(readFileSync(join(release, 'package.json'), 'utf8')) as { scripts: { postinstall: string } };
    const [cmd, ...rest] = pkg.scripts.postinstall.split(' ');
    expect(cmd).toBe('node');
    const post = spawnSync(process.execPath, rest, { cwd: release, encoding: 'utf8' });
    expect(post.status, post.stderr).toBe(0);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: tmp, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: tmp } });

  it('bundles the agent into dist/ (entry + one chunk per command) with no path into the build machine', () => {
    const files = readdirSync(join(release, 'dist'));
    expect(files).toContain('regterm.mjs');
    for (const f of files) {
      expect(f).toMatch(/\.mjs$/);
      expect(readFileSync(join(release, 'dist', f), 'utf8')).not.toContain(REPO);
    }
    expect(readFileSync(join(release, 'dist', 'regterm.mjs'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(summary.bundleBytes).toBe(files.reduce((n, f) => n + statSync(join(release, 'dist', f)).size, 0));
    const help = node([join(release, 'dist', 'regterm.mjs'), '--help']);
    expect(help.status, help.stderr).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it('runs --help and provision from a release with no node_modules (native modules load only where used)', () => {
    const bare = join(tmp, 'bare');
    const help = node([join(bare, 'dist', 'regterm.mjs'), '--help']);
    expect(help.status, help.stderr).toBe(0);
    const root = makeRoot(join(tmp, 'bare-image'));
    const p = spawnSync(join(bare, 'scripts', 'provision'), ['--root', root, '--device-id', 'bare-1', '--broker', 'mqtts://b.test:8883',
      '--carrier-key', carrierKey(join(tmp, 'bare.pub.pem')), '--ca', brokerCa(join(tmp, 'bare-ca.pem')), '--json'], { cwd: tmp, encoding: 'utf8', env: { PATH: process.env.PATH, NODE: process.execPath } });
    expect(p.status, p.stderr).toBe(0);
    expect((JSON.parse(p.stdout) as { nodeModules: boolean }).nodeModules).toBe(false);
    expect(existsSync(join(root, 'opt/regterm/current/dist/regterm.mjs'))).toBe(true);
  });

  it('loads every command\'s module graph from the bundle (no missing import at run time)', () => {
    for (const name of Object.keys(COMMANDS)) {
      const r = node([join(release, 'dist', 'regterm.mjs'), name, '--help']);
      expect([0, 2], `${name}: ${r.stderr}`).toContain(r.status);
      expect(r.stderr, name).not.toMatch(/internal error|Cannot find|ERR_MODULE_NOT_FOUND|Dynamic require/);
    }
  });

  it('provisions an image with the bundled CLI through scripts/provision, and its doctor passes the service checks', () => {
    const root = makeRoot(join(tmp, 'image'));
    const key = carrierKey(join(tmp, 'carrier.pub.pem'));
    const env = { PATH: process.env.PATH, NODE: process.execPath };
    const p = spawnSync(join(release, 'scripts', 'provision'), ['--root', root, '--device-id', 'rel-1', '--broker', 'mqtts://b.test:8883', '--carrier-key', key, '--ca', brokerCa(join(tmp, 'ca.pem')), '--json'], { cwd: tmp, encoding: 'utf8', env });
    expect(p.status, p.stderr).toBe(0);
    expect((JSON.parse(p.stdout) as { deviceId: string }).deviceId).toBe('rel-1');
    expect(readFileSync(join(root, 'opt/regterm/releases/0.1.0/dist/regterm.mjs'))).toEqual(readFileSync(join(release, 'dist', 'regterm.mjs')));
    expect(existsSync(join(root, 'opt/regterm/current/node_modules/sharp'))).toBe(true); // the installed release came along
    const d = node([join(root, 'opt/regterm/current/dist/regterm.mjs'), 'doctor', '--root', root, '--camera', 'none', '--panel', 'none', '--json']);
    const checks = (JSON.parse(d.stdout) as { checks: { check: string; status: string }[] }).checks;
    const status = Object.fromEntries(checks.map((c) => [c.check, c.status]));
    expect(status).toMatchObject({ 'service unit': 'pass', 'service enabled': 'pass', 'service user': 'pass', 'signing key': 'pass', config: 'pass', 'native modules': 'pass', 'model detect': 'pass' });
    rmSync(join(root, 'opt/regterm/current/node_modules/unix-dgram'), { recursive: true });
    const broken = node([join(root, 'opt/regterm/current/dist/regterm.mjs'), 'doctor', '--root', root, '--camera', 'none', '--panel', 'none', '--skip-models', '--json']);
    const row = (JSON.parse(broken.stdout) as { checks: { check: string; status: string; detail: string }[] }).checks.find((c) => c.check === 'native modules');
    expect(row?.status).toBe('fail');
    expect(row?.detail).toMatch(/^unix-dgram: /);
  });

  it('depends on the native modules only, pinned to the versions in the repository lock', () => {
    const pkg = JSON.parse(readFileSync(join(release, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies?: unknown };
    expect(Object.keys(pkg.dependencies).sort()).toEqual([...EXTERNALS].sort());
    for (const [name, version] of Object.entries(pkg.dependencies)) expect(version).toBe(repoLock.packages[`node_modules/${name}`].version);
    expect(pkg.devDependencies).toBeUndefined();
    const lock = JSON.parse(readFileSync(join(release, 'package-lock.json'), 'utf8')) as PackageLock;
    expect(lock.lockfileVersion).toBe(3);
    expect(lock.packages[''].dependencies).toEqual(pkg.dependencies);
    const paths = Object.keys(lock.packages).filter((p) => p !== '');
    expect(paths.sort()).toEqual(lockClosure(repoLock, EXTERNALS));
    for (const path of paths) {
      expect(lock.packages[path]).toMatchObject({ version: repoLock.packages[path].version, integrity: repoLock.packages[path].integrity });
      expect(lock.packages[path].dev).toBeUndefined();
    }
    // the arm64 builds npm will choose on the terminal are in the lock
    expect(paths).toContain('node_modules/@img/sharp-linux-arm64');
    for (const dev of ['esbuild', 'tsx', 'vitest', 'typescript', 'faceplugin-face-recognition-js', '@vladmandic/face-api', 'aedes']) {
      expect(paths).not.toContain(`node_modules/${dev}`);
    }
  });

  it('resolves lock dependencies the way Node does: nested first, then each parent', () => {
    const packages = { 'node_modules/a': {}, 'node_modules/b': {}, 'node_modules/a/node_modules/b': {} };
    expect(resolveLockPath(packages, 'node_modules/a', 'b')).toBe('node_modules/a/node_modules/b');
    expect(resolveLockPath(packages, 'node_modules/b', 'a')).toBe('node_modules/a');
    expect(resolveLockPath(packages, '', 'c')).toBeUndefined();
    expect(() => lockClosure({ name: 'x', version: '1', lockfileVersion: 3, packages: { 'node_modules/a': { dependencies: { z: '1' } } } }, ['a'])).toThrow(/needs z/);
  });

  it('keeps only this machine\'s onnxruntime binaries after install', () => {
    const napi = join(release, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    expect(readdirSync(napi)).toEqual([process.platform]);
    expect(readdirSync(join(napi, process.platform))).toEqual([process.arch]);
    expect(existsSync(join(REPO, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'win32'))).toBe(true); // source untouched
  });

  it('carries the manifest and every model it names, byte-identical', () => {
    const manifestPath = join(release, 'models', 'manifest.json');
    expect(sha256(manifestPath)).toBe(sha256(join(REPO, 'models', 'manifest.json')));
    type Entry = { source: { path?: string; file?: string }; sha256: string; deployed?: { file: string; sha256: string } };
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { models: Record<string, Entry> };
    for (const m of Object.values(manifest.models)) {
      const file = join(release, 'models', (m.source.path ?? m.source.file ?? '').split('/').pop() as string);
      expect(sha256(file)).toBe(m.sha256);
      if (m.deployed) expect(sha256(join(release, 'models', m.deployed.file))).toBe(m.deployed.sha256);
    }
  });

  it('runs analyze from the tmp copy with its own node_modules, same result as the sources', () => {
    expect(existsSync(join(release, 'node_modules', 'faceplugin-face-recognition-js'))).toBe(false);
    const bundled = node([join(release, 'dist', 'regterm.mjs'), 'analyze', '--json', SAMPLE]);
    expect(bundled.status, bundled.stderr).toBe(0);
    const faces = (JSON.parse(bundled.stdout) as { images: { faces: { score: number }[] }[] }).images[0].faces;
    expect(faces.length).toBeGreaterThan(0);
    expect(faces[0].score).toBeGreaterThan(0.9);
    const source = spawnSync(process.execPath, [join(REPO, 'bin', 'regterm.js'), 'analyze', '--json', SAMPLE], { cwd: REPO, encoding: 'utf8' });
    expect(source.status, source.stderr).toBe(0);
    expect(JSON.parse(bundled.stdout)).toEqual(JSON.parse(source.stdout));
  });

  it('installs where the systemd unit expects it, with units, the launcher, the update guard, the provision wrapper and the licence', () => {
    const unit = readFileSync(join(release, 'systemd', 'regterm.service'), 'utf8');
    const exec = /^ExecStart=\/opt\/regterm\/current\/(\S+)/m.exec(unit);
    expect(exec).not.toBeNull();
    expect(existsSync(join(release, exec?.[1] as string))).toBe(true);
    expect(statSync(join(release, 'regterm')).mode & 0o111).not.toBe(0);
    expect(statSync(join(release, 'scripts', 'update-guard')).mode & 0o111).not.toBe(0);
    expect(existsSync(join(release, 'systemd', '60-regterm.rules'))).toBe(true);
    for (const unit of ['regterm-update.path', 'regterm-update.service']) expect(existsSync(join(release, 'systemd', unit)), unit).toBe(true);
    expect(statSync(join(release, 'scripts', 'provision')).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(release, 'README.md'), 'utf8')).toContain('regterm provision --root /');
    expect(readFileSync(join(release, 'LICENSE'), 'utf8')).toContain('MIT License');
  });
});
