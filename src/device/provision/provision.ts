import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { keyId, readPublicKey } from '../../carrier/keys.ts';
import { configSchema } from '../../config/schema.ts';
import { RegtermError, UsageError, errorMessage } from '../../lib/errors.ts';
import { type RunCommand, ensureAccount } from './accounts.ts';
import { PATHS, UDEV_RULES_NAME, UNIT_NAME } from './layout.ts';
import { type OpensslRun, generateTlsKey, makeCsr } from './tls.ts';
import { type Change, type Chown, type Owner, TreeWriter } from './tree-writer.ts';
import { type LookupAll, allowList, renderUnit } from './unit.ts';

/**
 * Provisioning of one terminal into a root filesystem: an image mounted at a path while flashing, or `/`.
 *
 * INVARIANTS: idempotent (a second run with the same inputs changes nothing); existing keys are never regenerated
 * or rewritten, only their mode and owner are corrected; a root already provisioned for another deviceId is refused
 * (its keys and CSR belong to that id); every write is atomic (TreeWriter). Owners are set only when `chown` is given
 * (the CLI passes it when running as root); otherwise the result says ownership was skipped.
 */
export interface ProvisionOptions {
  root: string;
  deviceId: string;
  brokerUrl: string;
  /**
   * addresses or prefixes the agent may reach besides the broker host's addresses (resolved at provisioning): the
   * broker's when its name does not resolve here, a DNS server when the terminal has no local resolver
   */
  allowIps?: readonly string[];
  /** host paths of carrier Ed25519 public keys (PEM) to pin */
  carrierKeys: readonly string[];
  /** host path of the CA certificate the broker's certificate chains to */
  caFile?: string;
  /** host path of the device certificate the carrier's CA issued for the CSR (installed as /etc/regterm/tls/device.crt) */
  certFile?: string;
  /**
   * host path of a release (an unpacked release tarball, or a layout from scripts/build.ts) to install as
   * /opt/regterm/releases/<version> and make current; absent = leave /opt/regterm alone
   */
  releaseDir?: string;
  /** host paths of release-signing Ed25519 public keys (PEM) to pin; `regterm update` accepts releases they signed */
  releaseKeys?: readonly string[];
  /** host directory holding regterm.service and 60-regterm.rules */
  systemdDir: string;
  camera: 'rpicam' | 'ffmpeg';
  panel: 'gpiod' | 'onoff' | 'sim';
  chown?: Chown;
  openssl?: OpensslRun;
  runCommand?: RunCommand;
  lookup?: LookupAll;
}

export interface Enrollment {
  deviceId: string;
  signingKey: { kid: string; publicKeyPem: string };
  csrPem: string;
  csrPath: string;
  certPath: string;
}

export interface ProvisionResult extends Enrollment {
  root: string;
  changes: Change[];
  ownershipSkipped: boolean;
  /** the version installed as /opt/regterm/releases/<version> and linked as current */
  releaseInstalled?: string;
  /** whether the current release has node_modules (a development layout has none: `npm ci --omit=dev` there) */
  nodeModules: boolean;
  carrierKids: string[];
  /** the unit's outbound allow-list besides loopback (IPAddressAllow=) */
  allowedAddresses: string[];
  /** the broker host when it did not resolve: the unit then allows loopback only */
  brokerUnresolved?: string;
  releaseKids: string[];
}

const ROOT_OWNER: Owner = { uid: 0, gid: 0 };

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e: unknown) {
    throw new UsageError(`cannot read ${what} ${path}: ${errorMessage(e)}`, { cause: e });
  }
}

function deviceConfig(o: ProvisionOptions, withCa: boolean): Record<string, unknown> {
  const config = {
    deviceId: o.deviceId,
    stateDir: PATHS.stateDir,
    camera: { backend: o.camera },
    panel: { backend: o.panel },
    mqtt: { url: o.brokerUrl, ...(withCa ? { caFile: PATHS.tlsCa } : {}), certFile: PATHS.tlsCert, keyFile: PATHS.tlsKey },
    carrier: { keysDir: PATHS.carrierKeys },
    identity: { signingKeyFile: PATHS.signingKey },
  };
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    throw new UsageError(`invalid provisioning input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return config;
}

/** The release's version (its package.json): the directory name under /opt/regterm/releases. */
export function releaseVersion(releaseDir: string): string {
  let version: unknown;
  try {
    version = (JSON.parse(readFileSync(join(releaseDir, 'package.json'), 'utf8')) as { version?: unknown }).version;
  } catch (e: unknown) {
    throw new UsageError(`${releaseDir} is not a release (package.json: ${errorMessage(e)})`, { cause: e });
  }
  if (typeof version !== 'string' || !/^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/.test(version)) {
    throw new UsageError(`${releaseDir}/package.json has no usable version (got ${JSON.stringify(version)})`);
  }
  return version;
}

async function pinnedKeys(paths: readonly string[]): Promise<{ kid: string; pem: string }[]> {
  return Promise.all(paths.map(async (path) => {
    const key = readPublicKey(path);
    return { kid: await keyId(key), pem: key.export({ format: 'pem', type: 'spki' }) as string };
  }));
}

/** Makes `dir` hold exactly `keys` as <kid>.pem: a key no longer given must stop verifying. */
function pinExactly(w: TreeWriter, dir: string, keys: readonly { kid: string; pem: string }[]): void {
  w.dir(dir, 0o755, ROOT_OWNER);
  for (const k of keys) w.file(`${dir}/${k.kid}.pem`, k.pem, 0o644, ROOT_OWNER);
  const pinned = new Set(keys.map((k) => `${k.kid}.pem`));
  for (const name of readdirSync(w.host(dir))) {
    if (name.endsWith('.pem') && !pinned.has(name)) w.remove(`${dir}/${name}`);
  }
}

/** The enrolled certificate: PEM, for this device's TLS key, CN = deviceId (the broker's ACL is keyed by it). */
function deviceCertificate(path: string, tlsKeyPem: string, deviceId: string): string {
  const pem = readText(path, 'device certificate');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e: unknown) {
    throw new UsageError(`${path} is not a PEM certificate: ${errorMessage(e)}`, { cause: e });
  }
  if (!cert.checkPrivateKey(createPrivateKey(tlsKeyPem))) throw new UsageError(`${path} was not issued for this terminal's TLS key (${PATHS.tlsKey})`);
  if (!cert.subject.split('\n').includes(`CN=${deviceId}`)) throw new UsageError(`${path} is for ${cert.subject.replace(/\n/g, ', ')}, not CN=${deviceId}`);
  return pem;
}

function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

function existingDeviceId(w: TreeWriter): string | undefined {
  if (!w.exists(PATHS.config)) return undefined;
  try {
    const id = (JSON.parse(readFileSync(w.host(PATHS.config), 'utf8')) as { deviceId?: unknown }).deviceId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

export async function provision(o: ProvisionOptions): Promise<ProvisionResult> {
  if (!/^(mqtts?|wss?):\/\/[^/]+/.test(o.brokerUrl)) throw new UsageError(`--broker must be an mqtts://host:port URL (got '${o.brokerUrl}')`);
  if (o.carrierKeys.length === 0) throw new UsageError('at least one --carrier-key PUB.pem is required');
  deviceConfig(o, true); // validates deviceId (it becomes the CSR subject) and the rest before anything is written
  const carrier = await pinnedKeys(o.carrierKeys);
  const releaseSigners = o.releaseKeys === undefined ? undefined : await pinnedKeys(o.releaseKeys);
  if (o.releaseDir !== undefined && !existsSync(join(o.releaseDir, 'dist', 'regterm.mjs'))) {
    throw new UsageError(`${o.releaseDir} is not a release (no dist/regterm.mjs): run npm run build`);
  }
  const network = await allowList(o.brokerUrl, o.allowIps ?? [], o.lookup);
  const version = o.releaseDir === undefined ? undefined : releaseVersion(o.releaseDir);
  const caPem = o.caFile === undefined ? undefined : readText(o.caFile, 'CA certificate');
  if (caPem !== undefined) {
    try {
      new X509Certificate(caPem);
    } catch (e: unknown) {
      throw new UsageError(`${o.caFile} is not a PEM certificate: ${errorMessage(e)}`, { cause: e });
    }
  }
  const w = new TreeWriter({ root: o.root, chown: o.chown });
  const previous = existingDeviceId(w);
  if (previous !== undefined && previous !== o.deviceId) {
    throw new RegtermError(`${w.host(PATHS.config)} is provisioned as '${previous}'; refusing to re-provision it as '${o.deviceId}' (its keys belong to '${previous}')`);
  }
  // The agent pins the broker's CA and refuses to start with a client certificate but no CA (src/compose/carrier-from-config.ts).
  if (caPem === undefined && !w.exists(PATHS.tlsCa)) {
    throw new UsageError('--ca CA.pem is required: the terminal pins the CA that signs the broker certificate');
  }

  const account = ensureAccount(o.root, w, { run: o.runCommand });
  const service: Owner = { uid: account.uid, gid: account.gid };
  const rootGroupService: Owner = { uid: 0, gid: account.gid };

  w.dir(PATHS.configDir, 0o750, rootGroupService);
  w.dir(PATHS.tlsDir, 0o750, rootGroupService);
  w.dir(PATHS.stateDir, 0o700, service);

  w.fileOnce(PATHS.signingKey, () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600, service);
  const signing = createPrivateKey(readFileSync(w.host(PATHS.signingKey), 'utf8'));
  if (signing.asymmetricKeyType !== 'ed25519') throw new RegtermError(`${w.host(PATHS.signingKey)} is not an Ed25519 key`);
  const signingPublic = createPublicKey(signing);

  w.fileOnce(PATHS.tlsKey, generateTlsKey, 0o600, service);
  w.fileOnce(PATHS.tlsCsr, () => makeCsr(w.host(PATHS.tlsKey), o.deviceId, o.openssl), 0o644, ROOT_OWNER);
  if (caPem !== undefined) w.file(PATHS.tlsCa, caPem, 0o644, ROOT_OWNER);
  if (o.certFile !== undefined) w.file(PATHS.tlsCert, deviceCertificate(o.certFile, readFileSync(w.host(PATHS.tlsKey), 'utf8'), o.deviceId), 0o644, ROOT_OWNER);
  // The pinned sets are exactly the keys given: a key the carrier retired must stop verifying requests (or releases).
  pinExactly(w, PATHS.carrierKeys, carrier);
  if (releaseSigners !== undefined) pinExactly(w, PATHS.releaseKeys, releaseSigners);
  // Site settings live in conf.d (layered over config.json); provisioning creates the folder and never writes in it.
  w.dir(PATHS.confDir, 0o750, rootGroupService);

  const config = deviceConfig(o, w.exists(PATHS.tlsCa));
  w.file(PATHS.config, `${JSON.stringify(config, null, 2)}\n`, 0o640, rootGroupService);

  // Side by side, like an update (docs/release.md): releases/<version>, then `current` (relative, so it resolves in
  // an image mounted anywhere) and `regterm` on PATH. Provisioning `/` from the installed release itself: it is
  // already in place. A node_modules installed in a development layout (npm ci) is kept when it brings none.
  if (o.releaseDir !== undefined && version !== undefined) {
    const installed = `${PATHS.releases}/${version}`;
    if (!sameDir(o.releaseDir, w.host(installed))) w.mirror(o.releaseDir, installed, ROOT_OWNER, ['node_modules']);
    w.symlink(PATHS.current, `releases/${version}`);
    w.symlink(PATHS.pathLink, PATHS.launcher);
    // The guard stays outside the releases it switches; an update never replaces it (docs/release.md).
    w.file(PATHS.updateGuard, readText(join(o.releaseDir, 'scripts', 'update-guard'), 'update guard'), 0o755, ROOT_OWNER);
  }
  w.dir(PATHS.updateDir, 0o700, service);
  w.file(PATHS.unit, renderUnit(readText(join(o.systemdDir, UNIT_NAME), 'unit'), network.addresses), 0o644, ROOT_OWNER);
  w.symlink(PATHS.unitWants, PATHS.unit);
  for (const unit of [PATHS.updatePathUnit, PATHS.updateServiceUnit]) {
    w.file(unit, readText(join(o.systemdDir, basename(unit)), 'unit'), 0o644, ROOT_OWNER);
  }
  w.file(PATHS.udevRules, readText(join(o.systemdDir, UDEV_RULES_NAME), 'udev rules'), 0o644, ROOT_OWNER);

  return {
    root: o.root,
    deviceId: o.deviceId,
    signingKey: { kid: await keyId(signingPublic), publicKeyPem: signingPublic.export({ format: 'pem', type: 'spki' }) as string },
    csrPem: readFileSync(w.host(PATHS.tlsCsr), 'utf8'),
    csrPath: PATHS.tlsCsr,
    certPath: PATHS.tlsCert,
    changes: w.changes,
    ownershipSkipped: w.chownsSkipped,
    releaseInstalled: version,
    nodeModules: w.exists(`${PATHS.current}/node_modules`),
    carrierKids: carrier.map((c) => c.kid),
    allowedAddresses: network.addresses,
    ...(network.unresolved === undefined ? {} : { brokerUnresolved: network.unresolved }),
    releaseKids: (releaseSigners ?? []).map((k) => k.kid),
  };
}
