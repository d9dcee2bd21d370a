import { join } from 'node:path';

/**
 * Where an installed terminal keeps everything, as absolute device paths. `under(root, path)` maps one into an image
 * mounted at `root` (provisioning and `doctor --root`). The config written by provisioning names these paths.
 */
export const SERVICE_USER = 'regterm';
/** Supplementary groups of the service user: camera nodes (video) and GPIO (gpio); see systemd/60-regterm.rules. */
export const SERVICE_GROUPS = ['video', 'gpio'] as const;

export const PATHS = {
  release: '/opt/regterm',
  bundle: '/opt/regterm/dist/regterm.mjs',
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
  udevRules: '/etc/udev/rules.d/60-regterm.rules',
} as const;

/**
 * Native addons (and the packages that load them): kept out of the bundle, installed on the terminal by
 * `npm ci --omit=dev` from the release's lock (scripts/build.ts), checked by doctor.
 */
export const NATIVE_MODULES = ['onnxruntime-node', 'sharp', 'better-sqlite3', 'unix-dgram', 'onoff'] as const;

export const UNIT_NAME = 'regterm.service';
export const UDEV_RULES_NAME = '60-regterm.rules';

export function under(root: string, path: string): string {
  return join(root, path);
}
