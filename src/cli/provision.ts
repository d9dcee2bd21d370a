import { execFileSync } from 'node:child_process';
import { existsSync, lchownSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { APP_ROOT } from '../app-root.ts';
import { PATHS, UNIT_NAME } from '../device/provision/layout.ts';
import { type ProvisionResult, provision } from '../device/provision/provision.ts';
import { EXIT, RegtermError, UsageError, errorMessage } from '../lib/errors.ts';
import { type CommandContext, writeJson } from './command.ts';

const USAGE = `usage: regterm provision --root DIR --device-id ID --broker mqtts://HOST:PORT --carrier-key PUB.pem --ca CA.pem
                         [--carrier-key PUB2.pem ...] [--release-key PUB.pem ...] [--allow-ip ADDR[/PREFIX] ...]
                         [--release DIR | --no-release] [--cert DEVICE.crt]
                         [--camera rpicam|ffmpeg] [--panel gpiod|onoff|sim] [--start] [--json]
Provisions a terminal into a root filesystem (an image mounted at DIR, or /): the regterm service user (groups
video, gpio), /etc/regterm (config, Ed25519 signing key, TLS key + CSR, CA, pinned carrier and release keys),
/var/lib/regterm, the release as /opt/regterm/releases/<version> with /opt/regterm/current linked to it and
/usr/local/bin/regterm on PATH, the systemd unit (enabled) and udev rules. Idempotent: a second run changes nothing
and never regenerates keys. The pinned carrier keys become exactly the --carrier-key set, the pinned release keys
exactly the --release-key set when one is given (keys no longer in a set are removed and listed). Only config.json
is written; site settings go in /etc/regterm/conf.d/*.json, which provisioning never touches (see regterm config).
Prints the enrollment data: device id, signing public key + kid, CSR for the carrier's CA.
--ca (the CA that signs the broker certificate; the terminal pins it) may be left out only on a re-run.
The unit lets the agent reach loopback and the broker host's addresses, resolved now; --allow-ip adds addresses (the
broker's when its name does not resolve here, a DNS server when the terminal has no local resolver).
--cert: the certificate the carrier's CA issued for the printed CSR (checked: this TLS key, CN = device id).
--release defaults to the running release (or dist/release in a checkout).
--start (with --root / only): systemctl daemon-reload, udevadm control --reload + trigger, systemctl restart regterm.
`;

/** The release to install: the one this command runs from, else a built dist/release next to the sources. */
function defaultRelease(): string | undefined {
  if (existsSync(join(APP_ROOT, 'dist', 'regterm.mjs'))) return APP_ROOT;
  const built = join(APP_ROOT, 'dist', 'release');
  return existsSync(join(built, 'dist', 'regterm.mjs')) ? built : undefined;
}

function printEnrollment(out: NodeJS.WritableStream, r: ProvisionResult, panel: string, started: boolean): void {
  const lines = [
    `regterm provision: ${r.root}: ${r.changes.length === 0 ? 'already provisioned, nothing changed' : `${r.changes.length} change(s)`}`,
    ...r.changes.map((c) => `  ${c.action.padEnd(7)} ${c.path}`),
    `  network: the agent may reach loopback${r.allowedAddresses.length > 0 ? ` and ${r.allowedAddresses.join(', ')}` : ' only'}`,
    ...(r.brokerUnresolved ? [`  warning: broker host ${r.brokerUnresolved} did not resolve: re-run with --allow-ip ADDR for the broker`] : []),
    ...(r.ownershipSkipped ? ['  note: not running as root, file ownership was not set'] : []),
    ...(r.releaseInstalled !== undefined && !r.nodeModules
      ? [`  note: a development layout without node_modules: run \`npm ci --omit=dev\` in ${PATHS.current} on the device`] : []),
    ...(r.root === '/' && r.changes.length > 0 && !started
      ? ['  next: systemctl daemon-reload && udevadm control --reload && udevadm trigger && systemctl restart regterm'] : []),
    ...(panel === 'gpiod' ? ['  note: the gpiod panel runs the libgpiod tools: `apt install gpiod` on the terminal (docs/gpio.md)'] : []),
    '',
    `device id: ${r.deviceId}`,
    `signing key kid: ${r.signingKey.kid}`,
    r.signingKey.publicKeyPem.trimEnd(),
    `TLS CSR (${r.csrPath}; install the signed certificate as ${r.certPath}):`,
    r.csrPem.trimEnd(),
    '',
  ];
  out.write(lines.join('\n'));
}

/** Loads the installed unit and udev rules and (re)starts the service on this machine. */
function startService(): void {
  const steps: [string, string[]][] = [
    ['systemctl', ['daemon-reload']],
    ['udevadm', ['control', '--reload']],
    ['udevadm', ['trigger']],
    ['systemctl', ['restart', UNIT_NAME]],
  ];
  for (const [file, args] of steps) {
    try {
      execFileSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e: unknown) {
      throw new RegtermError(`provision --start: ${file} ${args.join(' ')} failed: ${errorMessage(e)}`, EXIT.failure, { cause: e });
    }
  }
}

export async function run(ctx: CommandContext): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: ctx.argv,
      options: {
        root: { type: 'string' },
        'device-id': { type: 'string' },
        broker: { type: 'string' },
        'carrier-key': { type: 'string', multiple: true },
        'allow-ip': { type: 'string', multiple: true },
        'release-key': { type: 'string', multiple: true },
        start: { type: 'boolean' },
        ca: { type: 'string' },
        cert: { type: 'string' },
        release: { type: 'string' },
        'no-release': { type: 'boolean' },
        camera: { type: 'string', default: 'rpicam' },
        panel: { type: 'string', default: 'gpiod' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e: unknown) {
    throw new UsageError(`provision: ${errorMessage(e)}`);
  }
  if (values.help) {
    ctx.stdout.write(USAGE);
    return EXIT.ok;
  }
  const missing = (['root', 'device-id', 'broker'] as const).filter((k) => !values[k]);
  if (missing.length > 0) throw new UsageError(`provision: missing ${missing.map((k) => `--${k}`).join(', ')}\n${USAGE}`);
  const camera = values.camera;
  const panel = values.panel;
  if (camera !== 'rpicam' && camera !== 'ffmpeg') throw new UsageError(`--camera must be rpicam or ffmpeg (got '${camera}')`);
  if (panel !== 'gpiod' && panel !== 'onoff' && panel !== 'sim') throw new UsageError(`--panel must be gpiod, onoff or sim (got '${panel}')`);
  const releaseDir = values['no-release'] ? undefined : values.release ? resolve(values.release) : defaultRelease();
  if (!values['no-release'] && releaseDir === undefined) {
    throw new UsageError('provision: no release found; run npm run build, or pass --release DIR or --no-release');
  }
  const root = resolve(values.root as string);
  if (!existsSync(root)) throw new UsageError(`provision: --root ${root} does not exist`);
  if (values.start && root !== '/') throw new UsageError('provision: --start needs --root / (an image is started when it boots)');
  const result = await provision({
    root,
    deviceId: values['device-id'] as string,
    brokerUrl: values.broker as string,
    allowIps: values['allow-ip'] ?? [],
    carrierKeys: (values['carrier-key'] ?? []).map((p) => resolve(p)),
    releaseKeys: values['release-key']?.map((p) => resolve(p)),
    caFile: values.ca === undefined ? undefined : resolve(values.ca),
    certFile: values.cert === undefined ? undefined : resolve(values.cert),
    releaseDir,
    systemdDir: join(releaseDir ?? APP_ROOT, 'systemd'),
    camera,
    panel,
    // Ownership needs root; a non-root run (building an image as a user) still lays out files and says so.
    chown: process.getuid?.() === 0 ? lchownSync : undefined,
  });
  if (values.start) startService();
  if (values.json) writeJson(ctx.stdout, result);
  else printEnrollment(ctx.stdout, result, panel, values.start === true);
  return EXIT.ok;
}
