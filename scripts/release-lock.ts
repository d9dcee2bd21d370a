/**
 * The release's package.json and package-lock.json, derived from the repository's lock (lockfileVersion 3).
 *
 * The bundle inlines every pure-JS dependency; only the native modules stay external and must be installed on the
 * device. This module takes those names, pins them to the exact versions in the repository lock, and copies the
 * lock entries of their dependency closure (dependencies, optionalDependencies and required peers, resolved the way
 * Node does: nearest node_modules first, then each parent), so `npm ci --omit=dev` on the device installs exactly the
 * versions that were tested here. Platform packages (sharp's @img/sharp-linux-arm64, ...) stay in the lock as
 * optional entries with their os/cpu fields; npm picks the device's own.
 */

export interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  link?: boolean;
  [key: string]: unknown;
}

export interface PackageLock {
  name: string;
  version: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

export interface ReleaseManifest {
  packageJson: Record<string, unknown>;
  lock: PackageLock;
}

/** Where Node would find `dep` when required from the package installed at `from` ('' = the project root). */
export function resolveLockPath(packages: Record<string, LockEntry>, from: string, dep: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${dep}`;
    if (candidate in packages) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

function requiredDeps(entry: LockEntry): { name: string; optional: boolean }[] {
  const peersOptional = entry.peerDependenciesMeta ?? {};
  return [
    ...Object.keys(entry.dependencies ?? {}).map((name) => ({ name, optional: false })),
    ...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
    ...Object.keys(entry.peerDependencies ?? {})
      .filter((name) => !peersOptional[name]?.optional)
      .map((name) => ({ name, optional: false })),
  ];
}

/** Lock paths of `roots` and everything they need. A missing non-optional dependency is an error. */
export function lockClosure(lock: PackageLock, roots: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue: string[] = [];
  for (const name of roots) {
    const path = resolveLockPath(lock.packages, '', name);
    if (!path) throw new Error(`${name} is not in package-lock.json`);
    queue.push(path);
  }
  while (queue.length > 0) {
    const path = queue.shift() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    for (const dep of requiredDeps(lock.packages[path])) {
      const found = resolveLockPath(lock.packages, path, dep.name);
      if (found) queue.push(found);
      else if (!dep.optional) throw new Error(`${path} needs ${dep.name}, which is not in package-lock.json`);
    }
  }
  return [...seen].sort();
}

/**
 * package.json + package-lock.json for a release that depends on `externals` only (exact versions).
 * `rootPackage` is the repository's package.json (name, version, engines are carried over).
 */
export function releaseManifest(rootPackage: Record<string, unknown>, lock: PackageLock, externals: readonly string[]): ReleaseManifest {
  const dependencies: Record<string, string> = {};
  for (const name of [...externals].sort()) {
    const version = lock.packages[`node_modules/${name}`]?.version;
    if (!version) throw new Error(`${name} is not installed at the top level of package-lock.json`);
    dependencies[name] = version;
  }
  const name = String(rootPackage.name);
  const version = String(rootPackage.version);
  const packageJson = {
    name,
    version,
    description: rootPackage.description,
    private: true,
    type: 'module',
    bin: { regterm: 'dist/regterm.mjs' },
    engines: rootPackage.engines,
    scripts: { postinstall: 'node scripts/prune-onnxruntime.mjs' },
    dependencies,
  };
  const packages: Record<string, LockEntry> = { '': { name, version, dependencies, engines: rootPackage.engines } };
  for (const path of lockClosure(lock, externals)) {
    const { dev: _dev, devOptional: _devOptional, ...entry } = lock.packages[path];
    packages[path] = entry;
  }
  return { packageJson, lock: { name, version, lockfileVersion: 3, requires: true, packages } };
}
