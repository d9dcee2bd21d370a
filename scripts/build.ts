/**
 * npm run build: the release layout; `npm run build -- --target linux-arm64|linux-x64` also installs its native
 * modules and a Node runtime for that CPU and packs dist/regterm-<version>-<target>.tar.gz (scripts/release-target.ts,
 * docs/release.md), the tarball a terminal installs.
 *
 *   dist/release/
 *     regterm              launcher (the release's node/bin/node, or node on PATH in this layout, runs dist/regterm.mjs)
 *     dist/regterm.mjs     the agent's entry (ESM) + dist/*-HASH.mjs chunks, one per command (native modules external)
 *     package.json         the native modules only, exact versions from package-lock.json
 *     package-lock.json    their lock entries (closure), so `npm ci` installs what was tested
 *     models/              manifest.json + every model file it names (sha256-checked while copying)
 *     systemd/             regterm.service + udev rules
 *     scripts/provision    the flashing-pipeline wrapper of `regterm provision`
 *     scripts/prune-onnxruntime.mjs  postinstall: drops onnxruntime-node binaries for other OS/CPUs (288 → 25 MB)
 *     scripts/update-guard  the update trial's guard, installed by provisioning as /opt/regterm/update-guard
 *     README.md            install notes
 *     LICENSE              the project's licence (MIT: copies carry its notice)
 *
 * The bundle sits one level down (dist/) like the sources (src/), so src/app-root.ts resolves the release root the
 * same way in both. Installed, a release is /opt/regterm/releases/<version>, /opt/regterm/current links to it and
 * systemd/regterm.service runs /opt/regterm/current/regterm.
 *
 * usage: tsx scripts/build.ts [--out DIR] [--target linux-arm64|linux-x64 [--sign-key release.key.pem]]
 *        (prints a JSON summary with sizes; REGTERM_RELEASE_KEY is the default --sign-key: writes TARBALL.sig)
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { NATIVE_MODULES } from '../src/device/provision/layout.ts';
import { ensureModelSources } from './model-packages.ts';
import { type PackageLock, releaseManifest } from './release-lock.ts';
import { signTarball } from '../src/cli/release.ts';
import { LAUNCHER, TARGETS, type Target, packTarget } from './release-target.ts';

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
 * ModelRegistry looks), deployed builds at their manifest-relative path. Sources are kept next to deployed
 * builds so `regterm bench` on the terminal can still compare the two.
 */
function copyModels(dest: string): string[] {
  const manifestPath = join(REPO, 'models', 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { models: Record<string, ManifestModel> };
  mkdirSync(dest, { recursive: true });
  copyFileSync(manifestPath, join(dest, 'manifest.json'));
  ensureModelSources(manifestPath);
  const copied: string[] = [];
  for (const [name, m] of Object.entries(manifest.models)) {
    const from = join(REPO, 'models', 'package' in m.source ? basename(m.source.path) : m.source.file);
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

Install on a terminal from the tarball (Raspberry Pi OS / Debian, as root; docs/release.md in the repository):

    tar -xzf regterm-${version}-linux-arm64.tar.gz
    regterm-${version}/regterm provision --root / --device-id ID --broker mqtts://BROKER:8883 \\
        --carrier-key CARRIER.pem --ca CA.pem --release-key RELEASE.pem
    regterm provision --root / --device-id ID --broker mqtts://BROKER:8883 \\
        --carrier-key CARRIER.pem --release-key RELEASE.pem --cert device.crt --start

The first provisioning installs this release as /opt/regterm/releases/${version} (/opt/regterm/current links to it),
links /usr/local/bin/regterm, installs and enables the unit, and prints the device's signing public key (+ kid) and a
TLS CSR; device.crt is the certificate the carrier's CA issues for it; the second installs it and starts the service.
For an image mounted at /mnt/img: \`--root /mnt/img\` and no --start. Then \`regterm doctor\`; updates:
\`regterm update apply FILE|URL\`.

- \`regterm\`: the launcher; \`node/\`: the Node runtime it runs (absent in a development layout: node on PATH).
- \`dist/regterm.mjs\`: the agent's entry (\`regterm --help\`), with one chunk per command next to it.
- \`models/\`: manifest.json and the model files it names; sha256-verified at every start.
- \`systemd/\`: the unit and udev rules that provisioning installs.
- \`RELEASE.json\`: version, target, and the sha256 of every file (an installed release is checked against it).
- Native dependencies (exact, locked in package-lock.json, built for the target in node_modules/):
  ${Object.entries(deps).map(([n, v]) => `${n}@${v}`).join(', ')}.
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
  for (const f of ['provision', 'prune-onnxruntime.mjs', 'update-guard']) {
    copyFileSync(join(REPO, 'scripts', f), join(out, 'scripts', f));
    chmodSync(join(out, 'scripts', f), 0o755);
  }
  const deps = release.packageJson.dependencies as Record<string, string>;
  writeFileSync(join(out, 'README.md'), README(String(rootPackage.version), deps));
  copyFileSync(join(REPO, 'LICENSE'), join(out, 'LICENSE'));
  writeFileSync(join(out, 'regterm'), LAUNCHER, { mode: 0o755 });
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
  const { values } = parseArgs({ options: { out: { type: 'string' }, target: { type: 'string' }, 'sign-key': { type: 'string' } } });
  if (values.target === undefined) {
    process.stdout.write(`${JSON.stringify(await buildRelease(resolve(values.out ?? join(REPO, 'dist', 'release'))), null, 2)}\n`);
  } else {
    if (!(values.target in TARGETS)) throw new Error(`--target must be one of ${Object.keys(TARGETS).join(', ')} (got '${values.target}')`);
    const target = values.target as Target;
    const out = resolve(values.out ?? join(REPO, 'dist'));
    const version = String((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
    const layout = join(out, `stage-${target}`, `regterm-${version}`);
    const summary = await buildRelease(layout);
    const packed = packTarget(layout, target, version, out);
    rmSync(dirname(layout), { recursive: true, force: true });
    // The release key signs where it is kept (an offline machine: regterm release sign); a build given one signs here.
    const signKey = values['sign-key'] ?? process.env.REGTERM_RELEASE_KEY;
    const signature = signKey === undefined ? undefined : await signTarball(packed.tarball as string, resolve(signKey));
    process.stdout.write(`${JSON.stringify({ ...summary, ...packed, signature: signature && `${String(packed.tarball)}.sig`, kid: signature?.kid }, null, 2)}\n`);
  }
}
