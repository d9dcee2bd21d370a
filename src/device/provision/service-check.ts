import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { installedConfig } from './installed-config.ts';
import { errorMessage } from '../../lib/errors.ts';
import { groupMembers, readAccount, type ServiceAccount } from './accounts.ts';
import { NATIVE_MODULES, PATHS, SERVICE_GROUPS, SERVICE_USER, under } from './layout.ts';
import { certificatesIn, commonName, matchesKey, notAfterMs, privateKeyIn } from '../tls/certificate.ts';

/** One doctor row (the same shape as src/cli/doctor.ts `Check`). */
export interface ServiceCheck {
  check: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  detail: string;
}

export interface ServiceCheckOptions {
  /** the image root or `/` */
  root: string;
  /** broker URL instead of the config's mqtt.url */
  broker?: string;
  connectTimeoutMs?: number;
}

type Who = 'root' | 'service';
interface Expect {
  path: string;
  mode: number;
  uid: Who;
  gid: Who;
}

/** Modes and owners provisioning sets (src/device/provision/provision.ts); doctor reports any drift. */
const EXPECTED: readonly Expect[] = [
  { path: PATHS.configDir, mode: 0o750, uid: 'root', gid: 'service' },
  { path: PATHS.config, mode: 0o640, uid: 'root', gid: 'service' },
  { path: PATHS.tlsDir, mode: 0o750, uid: 'root', gid: 'service' },
  { path: PATHS.carrierKeys, mode: 0o755, uid: 'root', gid: 'root' },
  { path: PATHS.stateDir, mode: 0o700, uid: 'service', gid: 'service' },
];

const fail = (check: string, detail: string): ServiceCheck => ({ check, status: 'fail', detail });
const pass = (check: string, detail: string): ServiceCheck => ({ check, status: 'pass', detail });

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function unitChecks(root: string): ServiceCheck[] {
  const unit = readOr(under(root, PATHS.unit));
  if (unit === undefined) return [fail('service unit', `${PATHS.unit} is not installed`)];
  const exec = /^ExecStart=(\S+)/m.exec(unit)?.[1];
  let current: string | undefined;
  try {
    current = readlinkSync(under(root, PATHS.current));
  } catch {
    current = undefined;
  }
  const rows = [exec && existsSync(under(root, exec))
    ? pass('service unit', `${PATHS.unit}, runs ${exec}${current ? ` (${PATHS.current} -> ${current})` : ''}`)
    : fail('service unit', `ExecStart ${exec ?? '(none)'} is missing${current ? '' : ` (no ${PATHS.current} link)`}`)];
  let target: string | undefined;
  try {
    target = readlinkSync(under(root, PATHS.unitWants));
  } catch {
    target = undefined;
  }
  rows.push(target === PATHS.unit || target === `../${PATHS.unit.split('/').pop()}`
    ? pass('service enabled', `multi-user.target.wants -> ${target}`)
    : fail('service enabled', target ? `${PATHS.unitWants} points to ${target}` : 'not enabled (no multi-user.target.wants link)'));
  rows.push(updateInstallerCheck(root, unit));
  return rows;
}

/**
 * The carrier's update command needs the privileged installer: the path unit that watches the staging directory,
 * the service it starts, and the agent's unit pulling the path unit in (`Wants=`). Without them a staged release
 * waits forever and the agent reports `install_timeout`.
 */
function updateInstallerCheck(root: string, agentUnit: string): ServiceCheck {
  const name = 'update installer';
  const pathUnit = readOr(under(root, PATHS.updatePathUnit));
  const pathName = PATHS.updatePathUnit.split('/').pop() ?? '';
  if (pathUnit === undefined) return fail(name, `${PATHS.updatePathUnit} is not installed: carrier update commands cannot be installed`);
  if (readOr(under(root, PATHS.updateServiceUnit)) === undefined) return fail(name, `${PATHS.updateServiceUnit} is not installed`);
  const watched = /^PathExists=(\S+)/m.exec(pathUnit)?.[1];
  if (!watched?.startsWith(`${PATHS.updateDir}/`)) return fail(name, `${pathName} watches ${watched ?? 'nothing'}, not the agent's staging directory under ${PATHS.updateDir}`);
  if (!new RegExp(`^Wants=.*\\b${pathName.replace('.', '\\.')}`, 'm').test(agentUnit)) return fail(name, `${PATHS.unit} does not start ${pathName} (no Wants=)`);
  return pass(name, `${pathName} watches ${watched}, started with the agent`);
}

function userCheck(root: string): { row: ServiceCheck; account?: ServiceAccount } {
  const passwd = readOr(under(root, '/etc/passwd')) ?? '';
  const group = readOr(under(root, '/etc/group')) ?? '';
  const entries = passwd.split('\n').filter((l) => l.startsWith(`${SERVICE_USER}:`));
  const account = readAccount({ passwd });
  if (!account) return { row: fail('service user', `no ${SERVICE_USER} in /etc/passwd`) };
  const problems: string[] = [];
  if (entries.length !== 1) problems.push(`${entries.length} passwd entries`);
  if (!/nologin|\/bin\/false$/.test(entries[0])) problems.push(`login shell ${entries[0].split(':')[6]}`);
  for (const g of SERVICE_GROUPS) if (!groupMembers(group, g)?.includes(SERVICE_USER)) problems.push(`not in group ${g}`);
  const detail = `uid ${account.uid} gid ${account.gid}, groups ${SERVICE_GROUPS.join(',')}`;
  return { row: problems.length ? fail('service user', problems.join('; ')) : pass('service user', detail), account };
}

function ownerName(id: number, account: ServiceAccount, kind: 'uid' | 'gid'): string {
  return id === 0 ? 'root' : id === account[kind] ? SERVICE_USER : String(id);
}

function permissionCheck(root: string, account: ServiceAccount): ServiceCheck {
  const problems: string[] = [];
  for (const e of EXPECTED) {
    let st;
    try {
      st = statSync(under(root, e.path));
    } catch {
      problems.push(`${e.path} missing`);
      continue;
    }
    const uid = e.uid === 'root' ? 0 : account.uid;
    const gid = e.gid === 'root' ? 0 : account.gid;
    const mode = st.mode & 0o7777;
    if (mode !== e.mode) problems.push(`${e.path} mode ${mode.toString(8)} (want ${e.mode.toString(8)})`);
    if (st.uid !== uid || st.gid !== gid) {
      problems.push(`${e.path} owner ${ownerName(st.uid, account, 'uid')}:${ownerName(st.gid, account, 'gid')} (want ${e.uid === 'root' ? 'root' : SERVICE_USER}:${e.gid === 'root' ? 'root' : SERVICE_USER})`);
    }
  }
  const pinned = existsSync(under(root, PATHS.carrierKeys)) ? readdirSync(under(root, PATHS.carrierKeys)).filter((f) => f.endsWith('.pem')) : [];
  if (pinned.length === 0) problems.push(`no carrier key pinned in ${PATHS.carrierKeys}`);
  return problems.length
    ? fail('permissions', problems.join('; '))
    : pass('permissions', `${EXPECTED.length} paths as provisioned, ${pinned.length} carrier key(s) pinned`);
}

/** A private key is "readable only by the service": a regular file, mode 0600, owned by the service user. */
function keyCheck(root: string, name: string, path: string, account: ServiceAccount, type: string): ServiceCheck {
  const host = under(root, path);
  let st;
  try {
    st = lstatSync(host);
  } catch {
    return fail(name, `${path} missing`);
  }
  const mode = st.mode & 0o7777;
  if (!st.isFile() || mode !== 0o600 || st.uid !== account.uid) {
    return fail(name, `${path} must be a 0600 file owned by ${SERVICE_USER} (mode ${mode.toString(8)}, uid ${st.uid})`);
  }
  try {
    const key = createPrivateKey(readFileSync(host, 'utf8'));
    if (key.asymmetricKeyType !== type) return fail(name, `${path} is ${key.asymmetricKeyType}, want ${type}`);
  } catch (e: unknown) {
    return fail(name, `${path}: ${errorMessage(e)}`);
  }
  return pass(name, `${path} 0600 ${SERVICE_USER}, ${type}`);
}

/**
 * Every native module resolves from the release at `releaseDir` (`shown` is how the row names it); with `load`, each
 * is also loaded, which catches a wrong CPU or Node ABI (an image for another machine can only be resolved).
 */
export function checkNativeModules(releaseDir: string, shown: string, load: boolean): ServiceCheck {
  if (!existsSync(join(releaseDir, 'node_modules'))) return { check: 'native modules', status: 'warn', detail: `no node_modules in ${shown} (a development layout: run npm ci --omit=dev there)` };
  const req = createRequire(join(releaseDir, 'dist', 'regterm.mjs'));
  const problems: string[] = [];
  for (const name of NATIVE_MODULES) {
    try {
      if (!load) req.resolve(name);
      else if (name === 'better-sqlite3') new (req(name) as new (path: string) => { close(): void })(':memory:').close(); // its addon loads on first open
      else req(name);
    } catch (e: unknown) {
      problems.push(`${name}: ${errorMessage(e).split('\n')[0]}`);
    }
  }
  return problems.length
    ? fail('native modules', problems.join('; '))
    : pass('native modules', `${NATIVE_MODULES.length} ${load ? 'loaded' : 'resolve'} from ${shown}/node_modules`);
}

function certificateCheck(root: string, deviceId: string | undefined): { row: ServiceCheck; cert?: X509Certificate } {
  const pem = readOr(under(root, PATHS.tlsCert));
  if (pem === undefined) return { row: { check: 'device certificate', status: 'warn', detail: `${PATHS.tlsCert} missing: enrollment pending (CSR ${PATHS.tlsCsr})` } };
  try {
    const cert = new X509Certificate(pem);
    const keyPem = readOr(under(root, PATHS.tlsKey));
    if (keyPem === undefined || !cert.checkPrivateKey(createPrivateKey(keyPem))) return { row: fail('device certificate', `${PATHS.tlsCert} does not match ${PATHS.tlsKey}`) };
    if (deviceId && !cert.subject.split('\n').includes(`CN=${deviceId}`)) return { row: fail('device certificate', `subject ${cert.subject.replace(/\n/g, ', ')} is not CN=${deviceId}`) };
    if (Date.parse(cert.validTo) < Date.now()) return { row: fail('device certificate', `expired ${cert.validTo}`) };
    return { row: pass('device certificate', `CN=${deviceId}, valid until ${cert.validTo}`), cert };
  } catch (e: unknown) {
    return { row: fail('device certificate', `${PATHS.tlsCert}: ${errorMessage(e)}`) };
  }
}

/**
 * The pair the agent renewed itself (src/device/tls/credentials.ts `current.pem` in the state directory), when it is
 * valid for this device: the agent then presents it instead of the provisioned one if it lasts longer.
 */
function renewedPair(root: string, stateDir: string, deviceId: string): { path: string; cert: X509Certificate; certPem: string; keyPem: string } | undefined {
  const path = join(stateDir, 'tls', 'current.pem');
  const text = readOr(under(root, path));
  if (text === undefined) return undefined;
  try {
    const keyPem = privateKeyIn(text);
    const cert = certificatesIn(text)[0];
    if (!keyPem || !cert || !matchesKey(cert, keyPem) || commonName(cert) !== deviceId || notAfterMs(cert) <= Date.now()) return undefined;
    return { path, cert, certPem: cert.toString(), keyPem };
  } catch {
    return undefined;
  }
}

/**
 * TLS handshake + MQTT CONNECT with the device certificate. The distinct clientId keeps a running agent connected on a
 * broker that leaves client ids to clients; a broker that binds the client id to the certificate (docs/mosquitto.conf.
 * example) gives this connection the agent's id, so the agent is dropped once and reconnects by itself.
 */
async function checkBroker(url: string, tls: { ca?: string; cert: string; key: string }, deviceId: string, timeoutMs = 5000): Promise<ServiceCheck> {
  const started = Date.now();
  const client = mqtt.connect(url, {
    ...tls, clientId: `${deviceId}-doctor`, protocolVersion: 5, clean: true, reconnectPeriod: 0,
    connectTimeout: timeoutMs, rejectUnauthorized: true,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs);
      client.once('connect', () => { clearTimeout(timer); resolve(); });
      client.once('error', (e) => { clearTimeout(timer); reject(e); });
      client.once('close', () => { clearTimeout(timer); reject(new Error('connection closed before CONNACK')); });
    });
    return pass('broker', `${url}: TLS + MQTT 5 CONNECT with the device certificate in ${Date.now() - started} ms`);
  } catch (e: unknown) {
    return fail('broker', `${url}: ${errorMessage(e)}`);
  } finally {
    await client.endAsync(true);
  }
}

/** Checks of the installed service in the root filesystem at `root`: unit, user, permissions, keys, config, broker. */
export async function checkService(o: ServiceCheckOptions): Promise<ServiceCheck[]> {
  const { root } = o;
  const rows = unitChecks(root);
  const user = userCheck(root);
  rows.push(user.row);
  if (user.account) {
    rows.push(permissionCheck(root, user.account));
    rows.push(keyCheck(root, 'signing key', PATHS.signingKey, user.account, 'ed25519'));
    rows.push(keyCheck(root, 'tls key', PATHS.tlsKey, user.account, 'ec'));
  }
  let config;
  try {
    config = installedConfig(root).config;
    rows.push(pass('config', `${PATHS.config} valid, deviceId ${config.deviceId}`));
  } catch (e: unknown) {
    rows.push(fail('config', errorMessage(e).replace(/\n\s*/g, ' ')));
  }
  rows.push(checkNativeModules(under(root, PATHS.current), PATHS.current, resolve(root) === '/'));
  const cert = certificateCheck(root, config?.deviceId);
  const found = config ? renewedPair(root, config.stateDir, config.deviceId) : undefined;
  const renewed = found && (!cert.cert || notAfterMs(found.cert) > notAfterMs(cert.cert)) ? found : undefined;
  rows.push(renewed
    ? pass('device certificate', `CN=${config?.deviceId}, renewed (${renewed.path}), valid until ${renewed.cert.validTo}`)
    : cert.row);
  const url = o.broker ?? config?.mqtt.url;
  if (!(cert.cert || renewed) || !config || !url) {
    rows.push({ check: 'broker', status: 'skip', detail: 'needs a valid config and device certificate' });
  } else {
    const ca = config.mqtt.caFile ? readOr(under(root, config.mqtt.caFile)) : undefined;
    const tls = renewed
      ? { ca, cert: renewed.certPem, key: renewed.keyPem }
      : { ca, cert: readOr(under(root, PATHS.tlsCert)) as string, key: readOr(under(root, PATHS.tlsKey)) as string };
    rows.push(await checkBroker(url, tls, config.deviceId, o.connectTimeoutMs));
  }
  return rows;
}
