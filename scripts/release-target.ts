/**
 * `npm run build -- --target linux-arm64|linux-x64`: the release a terminal installs without a compiler or a registry.
 *
 *   dist/regterm-<version>-linux-<arch>.tar.gz
 *     regterm-<version>/
 *       regterm           launcher: the shipped Node runs dist/regterm.mjs (symlinks resolved, so it works from PATH)
 *       node/bin/node     Node for that CPU, from the npm registry (node-linux-<arch>, the official build)
 *       node_modules/     the native modules of the release lock, built for that CPU and that Node
 *       dist/ models/ systemd/ scripts/ package.json package-lock.json README.md LICENSE   (scripts/build.ts)
 *       RELEASE.json      version, target, Node version, and the sha256 of every other file (checked before a switch)
 *
 * Native modules: onnxruntime-node ships every platform's binary (the others are removed); sharp's prebuilt
 * @img/sharp-*-<arch> packages come from the lock (npm ci --cpu/--os); the node-gyp addons (better-sqlite3,
 * unix-dgram, epoll) are compiled here against the shipped Node's own headers (the node-linux-<arch> package carries
 * include/node), with Debian's aarch64-linux-gnu cross toolchain for arm64. Nothing is fetched from GitHub.
 * Compiled addons are cached by package version, Node version and CPU (REGTERM_BUILD_CACHE, ~/.cache/regterm-build).
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync, closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readSync,
  readdirSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/** The Node the terminal runs (22 LTS); node-linux-<arch>@this from the npm registry. */
export const NODE_RUNTIME_VERSION = '22.23.5';

export const TARGETS = {
  'linux-arm64': { arch: 'arm64', elfMachine: 0xb7, cross: 'aarch64-linux-gnu' },
  'linux-x64': { arch: 'x64', elfMachine: 0x3e, cross: undefined },
} as const;
export type Target = keyof typeof TARGETS;

export const LAUNCHER = `#!/bin/sh
# regterm launcher: this release's own Node runs its bundle. The link is resolved first, so the launcher works
# through /usr/local/bin/regterm -> /opt/regterm/current/regterm -> /opt/regterm/releases/<version>/regterm.
# A development layout (npm run build without --target) has no node/ and runs the node on PATH.
here="$(dirname "$(readlink -f "$0")")"
node="$here/node/bin/node"
[ -x "$node" ] || node=node
exec "$node" "$here/dist/regterm.mjs" "$@"
`;

function cacheDir(): string {
  return process.env.REGTERM_BUILD_CACHE ?? join(homedir(), '.cache', 'regterm-build');
}

function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  execFileSync(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** node-linux-<arch>@NODE_RUNTIME_VERSION unpacked in the cache (bin/node and include/node); returns its directory. */
export function nodeRuntime(arch: string): string {
  const dir = join(cacheDir(), `node-linux-${arch}-${NODE_RUNTIME_VERSION}`);
  if (existsSync(join(dir, 'package', 'bin', 'node'))) return join(dir, 'package');
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  run('npm', ['pack', '--silent', `node-linux-${arch}@${NODE_RUNTIME_VERSION}`], { cwd: tmp });
  const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack node-linux-${arch}@${NODE_RUNTIME_VERSION} wrote no tarball`);
  run('tar', ['-xzf', tgz], { cwd: tmp });
  rmSync(join(tmp, tgz));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return join(dir, 'package');
}

/** The node-gyp that ships with npm (no download: --nodedir points at the runtime's own headers). */
function nodeGyp(): string {
  const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  return join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

/** Packages in node_modules that compile an addon at install time (a binding.gyp and no prebuilt one in the tree). */
function gypPackages(modules: string): string[] {
  return readdirSync(modules).filter((name) => existsSync(join(modules, name, 'binding.gyp')));
}

/**
 * Compiles (or takes from the cache) each node-gyp addon for `target` against the runtime's headers, then leaves
 * only build/Release/<addon>.node of the build tree and drops the sources only the compiler needed.
 */
function buildAddons(modules: string, target: Target, runtime: string): string[] {
  const t = TARGETS[target];
  // npm run exports its config as npm_config_* (a global nodedir=/usr would win over --nodedir): none is passed on.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_')));
  env.npm_config_nodedir = runtime;
  if (t.cross) Object.assign(env, { CC: `${t.cross}-gcc`, CXX: `${t.cross}-g++`, LINK: `${t.cross}-g++`, AR: `${t.cross}-ar` });
  const built: string[] = [];
  for (const name of gypPackages(modules)) {
    const dir = join(modules, name);
    const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    const cached = join(cacheDir(), 'addons', `${name}-${version}-node${NODE_RUNTIME_VERSION}-${target}`);
    if (!existsSync(cached)) {
      run(process.execPath, [nodeGyp(), 'rebuild', '--release', `--arch=${t.arch}`, `--nodedir=${runtime}`, '-j', 'max'], { cwd: dir, env });
      const tmp = `${cached}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      for (const f of readdirSync(join(dir, 'build', 'Release'))) {
        if (f.endsWith('.node') && !f.startsWith('test_')) copyFileSync(join(dir, 'build', 'Release', f), join(tmp, f));
      }
      renameSync(tmp, cached);
    }
    for (const sub of ['build', 'deps', 'src']) rmSync(join(dir, sub), { recursive: true, force: true });
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    for (const f of readdirSync(cached)) copyFileSync(join(cached, f), join(dir, 'build', 'Release', f));
    built.push(`${name}@${version}`);
  }
  return built;
}

/**
 * node_modules/.bin holds symlinks to package CLIs the agent never runs; a release holds files and directories only
 * (an update refuses anything else), so they go.
 */
function removeBinLinks(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === '.bin') rmSync(p, { recursive: true, force: true });
    else if (lstatSync(p).isDirectory()) removeBinLinks(p);
  }
}

/** e_machine of an ELF file, or undefined for any other file. */
export function elfMachine(path: string): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(20);
    if (readSync(fd, head, 0, 20, 0) < 20 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
    return head.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (st.isFile()) out.push(p);
    else throw new Error(`${p}: a release holds files and directories only`);
  }
  return out;
}

/** Every ELF file under `dir` (relative paths); throws when one is built for another CPU. */
function checkNativeFiles(dir: string, target: Target): string[] {
  const want = TARGETS[target].elfMachine;
  const elves = walk(dir).filter((p) => elfMachine(p) !== undefined);
  const foreign = elves.filter((p) => elfMachine(p) !== want);
  if (foreign.length > 0) throw new Error(`${target} release holds native files for another CPU: ${foreign.map((p) => relative(dir, p)).join(', ')}`);
  return elves.map((p) => relative(dir, p)).sort();
}

const sha256File = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** RELEASE.json: what the release is, and the digest of every file in it (an installed tree is checked against it). */
export function writeReleaseInfo(dir: string, info: { version: string; target: string }): void {
  const files: Record<string, string> = {};
  for (const p of walk(dir).sort()) files[relative(dir, p)] = sha256File(p);
  writeFileSync(join(dir, 'RELEASE.json'), `${JSON.stringify({ name: 'regterm', ...info, node: NODE_RUNTIME_VERSION, files }, null, 2)}\n`);
}

/**
 * Turns the release layout at `layout` (scripts/build.ts, named regterm-<version>) into the installable tree for
 * `target` and packs it as `<outDir>/regterm-<version>-<target>.tar.gz`. Returns what went in.
 */
export function packTarget(layout: string, target: Target, version: string, outDir: string): Record<string, unknown> {
  const t = TARGETS[target];
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--os=linux', `--cpu=${t.arch}`, '--no-audit', '--no-fund'], { cwd: layout });
  const modules = join(layout, 'node_modules');
  const runtime = nodeRuntime(t.arch);
  const addons = buildAddons(modules, target, runtime);
  run(process.execPath, [join(layout, 'scripts', 'prune-onnxruntime.mjs'), layout, 'linux', t.arch]);
  removeBinLinks(modules);
  mkdirSync(join(layout, 'node', 'bin'), { recursive: true });
  copyFileSync(join(runtime, 'bin', 'node'), join(layout, 'node', 'bin', 'node'));
  chmodSync(join(layout, 'node', 'bin', 'node'), 0o755);
  copyFileSync(join(runtime, 'LICENSE'), join(layout, 'node', 'LICENSE'));
  const nativeFiles = checkNativeFiles(layout, target);
  writeReleaseInfo(layout, { version, target });
  const tarball = packTarball(layout, version, target, outDir);
  return { tarball, tarballBytes: statSync(tarball).size, target, node: NODE_RUNTIME_VERSION, addons, nativeFiles };
}

/** Packs the release tree `layout` (named regterm-<version>, RELEASE.json written) as <outDir>/regterm-<version>-<target>.tar.gz. */
export function packTarball(layout: string, version: string, target: string, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const tarball = join(outDir, `regterm-${version}-${target}.tar.gz`);
  const tmp = `${tarball}.tmp`;
  // Reproducible order, owners and times: the same inputs give the same bytes (and signature).
  run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--use-compress-program=gzip -9n',
    '-cf', tmp, '-C', dirname(layout), relative(dirname(layout), layout)]);
  renameSync(tmp, tarball);
  return tarball;
}
