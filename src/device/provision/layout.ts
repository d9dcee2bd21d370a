import { join } from 'node:path';

/**
 * Where an installed terminal keeps everything, as absolute device paths. `under(root, path)` maps one into an image
 * mounted at `root` (provisioning and `doctor --root`). The config written by provisioning names these paths.
 */
export const SERVICE_USER = 'regterm';
/** Supplementary groups of the service user: camera nodes (video) and GPIO (gpio); see systemd/60-regterm.rules. */
export const SERVICE_GROUPS = ['video', 'gpio'] as const;

export const PATHS = {
  /** every installed release is releases/<version>; `current` links to the one the unit runs (docs/release.md) */
  release: '/opt/regterm',
  releases: '/opt/regterm/releases',
  current: '/opt/regterm/current',
  launcher: '/opt/regterm/current/regterm',
  bundle: '/opt/regterm/current/dist/regterm.mjs',
  /** the update trial's guard (scripts/update-guard), outside the releases it switches; run by the unit */
  updateGuard: '/opt/regterm/update-guard',
  /** the update trial's state (pending, outcome; src/device/update/pending.ts) */
  updateDir: '/var/lib/regterm/update',
  /** `regterm` on PATH: links to the current release's launcher */
  pathLink: '/usr/local/bin/regterm',
  /** pinned Ed25519 public keys a release tarball must be signed with (<kid>.pem) */
  releaseKeys: '/etc/regterm/release-keys',
  configDir: '/etc/regterm',
  config: '/etc/regterm/config.json',
  confDir: '/etc/regterm/conf.d',
  signingKey: '/etc/regterm/device-key.pem',
  tlsDir: '/etc/regterm/tls',
  tlsKey: '/etc/regterm/tls/device.key',
  tlsCsr: '/etc/regterm/tls/device.csr',
  tlsCert: '/etc/regterm/tls/device.crt',
  tlsCa: '/etc/regterm/tls/ca.pem',
  carrierKeys: '/etc/regterm/carrier-keys',
  stateDir: '/var/lib/regterm',
  unit: '/etc/systemd/system/regterm.service',
  unitWants: '/etc/systemd/system/multi-user.target.wants/regterm.service',
  /** the privileged installer of a release the agent staged (started by the agent's unit; docs/release.md) */
  updatePathUnit: '/etc/systemd/system/regterm-update.path',
  updateServiceUnit: '/etc/systemd/system/regterm-update.service',
  udevRules: '/etc/udev/rules.d/60-regterm.rules',
} as const;

/**
 * Native addons (and the packages that load them): kept out of the bundle, shipped in the release's node_modules
 * built for its CPU (scripts/release-target.ts), checked by doctor.
 */
export const NATIVE_MODULES = ['onnxruntime-node', 'sharp', 'better-sqlite3', 'unix-dgram', 'onoff'] as const;

export const UNIT_NAME = 'regterm.service';
export const UDEV_RULES_NAME = '60-regterm.rules';

export function under(root: string, path: string): string {
  return join(root, path);
}
