import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { keyId, readPublicKey } from '../../carrier/keys.ts';
import { configSchema } from '../../config/schema.ts';
import { RegtermError, UsageError, errorMessage } from '../../errors.ts';
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
  /** host path of a release layout (scripts/build.ts) to install as /opt/regterm; absent = leave /opt/regterm alone */
  releaseDir?: string;
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
  releaseInstalled: boolean;
  /** whether /opt/regterm/node_modules exists (else `npm ci --omit=dev` must run there on the device) */
  nodeModules: boolean;
  carrierKids: string[];
  /** the unit's outbound allow-list besides loopback (IPAddressAllow=) */
  allowedAddresses: string[];
  /** the broker host when it did not resolve: the unit then allows loopback only */
  brokerUnresolved?: string;
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
  const carrier = await Promise.all(o.carrierKeys.map(async (path) => {
    const key = readPublicKey(path);
    return { kid: await keyId(key), pem: key.export({ format: 'pem', type: 'spki' }) as string };
  }));
  if (o.releaseDir !== undefined && !existsSync(join(o.releaseDir, 'dist', 'regterm.mjs'))) {
    throw new UsageError(`${o.releaseDir} is not a release (no dist/regterm.mjs): run npm run build`);
  }
  const network = await allowList(o.brokerUrl, o.allowIps ?? [], o.lookup);
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
  // The agent pins the broker's CA and refuses to start with a client certificate but no CA (src/compose/carrier-part.ts).
  if (caPem === undefined && !w.exists(PATHS.tlsCa)) {
    throw new UsageError('--ca CA.pem is required: the terminal pins the CA that signs the broker certificate');
  }

  const account = ensureAccount(o.root, w, { run: o.runCommand });
  const service: Owner = { uid: account.uid, gid: account.gid };
  const rootGroupService: Owner = { uid: 0, gid: account.gid };

  w.dir(PATHS.configDir, 0o750, rootGroupService);
  w.dir(PATHS.tlsDir, 0o750, rootGroupService);
  w.dir(PATHS.carrierKeys, 0o755, ROOT_OWNER);
  w.dir(PATHS.stateDir, 0o700, service);

  w.fileOnce(PATHS.signingKey, () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600, service);
  const signing = createPrivateKey(readFileSync(w.host(PATHS.signingKey), 'utf8'));
  if (signing.asymmetricKeyType !== 'ed25519') throw new RegtermError(`${w.host(PATHS.signingKey)} is not an Ed25519 key`);
  const signingPublic = createPublicKey(signing);

  w.fileOnce(PATHS.tlsKey, generateTlsKey, 0o600, service);
  w.fileOnce(PATHS.tlsCsr, () => makeCsr(w.host(PATHS.tlsKey), o.deviceId, o.openssl), 0o644, ROOT_OWNER);
  if (caPem !== undefined) w.file(PATHS.tlsCa, caPem, 0o644, ROOT_OWNER);
  for (const c of carrier) w.file(`${PATHS.carrierKeys}/${c.kid}.pem`, c.pem, 0o644, ROOT_OWNER);
  // The pinned set is exactly the keys given: a key the carrier retired must stop verifying requests.
  const pinned = new Set(carrier.map((c) => `${c.kid}.pem`));
  for (const name of readdirSync(w.host(PATHS.carrierKeys))) {
    if (name.endsWith('.pem') && !pinned.has(name)) w.remove(`${PATHS.carrierKeys}/${name}`);
  }
  // Site settings live in conf.d (layered over config.json); provisioning creates the folder and never writes in it.
  w.dir(PATHS.confDir, 0o750, rootGroupService);

  const config = deviceConfig(o, w.exists(PATHS.tlsCa));
  w.file(PATHS.config, `${JSON.stringify(config, null, 2)}\n`, 0o640, rootGroupService);

  // Provisioning `/` from the installed release itself: it is already in place. A node_modules installed on the
  // terminal (npm ci) is kept when the new release brings none; the CLI says to re-run npm ci.
  if (o.releaseDir !== undefined && resolve(o.releaseDir) !== resolve(w.host(PATHS.release))) {
    w.mirror(o.releaseDir, PATHS.release, ROOT_OWNER, ['node_modules']);
  }
  w.file(PATHS.unit, renderUnit(readText(join(o.systemdDir, UNIT_NAME), 'unit'), network.addresses), 0o644, ROOT_OWNER);
  w.symlink(PATHS.unitWants, PATHS.unit);
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
    releaseInstalled: o.releaseDir !== undefined,
    nodeModules: w.exists(`${PATHS.release}/node_modules`),
    carrierKids: carrier.map((c) => c.kid),
    allowedAddresses: network.addresses,
    ...(network.unresolved === undefined ? {} : { brokerUnresolved: network.unresolved }),
  };
}
