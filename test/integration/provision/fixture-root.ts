import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A minimal Debian-like root filesystem (account files only) to provision into: group video exists, gpio does not
 * (plain Debian; Raspberry Pi OS has it), and ids 999 and 998 are taken so the picker must skip them.
 */
export function makeRoot(dir: string): string {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  const files: Record<string, [string, number]> = {
    passwd: ['root:x:0:0:root:/root:/bin/bash\nsystemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin\n_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\nmessagebus:x:999:999::/nonexistent:/usr/sbin/nologin\npi:x:1000:1000:,,,:/home/pi:/bin/bash\n', 0o644],
    group: ['root:x:0:\nvideo:x:44:pi\nsystemd-network:x:998:\nmessagebus:x:999:\npi:x:1000:\n', 0o644],
    shadow: ['root:*:19000:0:99999:7:::\nsystemd-network:!*:19000::::::\n_apt:*:19000:0:99999:7:::\nmessagebus:!:19000::::::\npi:$y$j9T$x:19000:0:99999:7:::\n', 0o640],
    gshadow: ['root:*::\nvideo:*::pi\nsystemd-network:!*::\nmessagebus:!::\npi:!::\n', 0o640],
  };
  for (const [name, [text, mode]] of Object.entries(files)) writeFileSync(join(dir, 'etc', name), text, { mode });
  return dir;
}

/** A carrier Ed25519 public key PEM written to `path`. */
export function carrierKey(path: string): string {
  writeFileSync(path, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }) as string);
  return path;
}

/** A self-signed CA certificate (the carrier's broker CA) written to `path`; its key goes next to it. */
export function brokerCa(path: string): string {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout',
    `${path}.key`, '-out', path, '-subj', '/CN=carrier-test-ca', '-days', '2'], { stdio: 'ignore' });
  return path;
}

/** path → content hash (or link target) + mode + owner, for every entry under `dir`: equal snapshots = nothing changed. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string): void => {
    const st = lstatSync(p);
    const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out.set(p, `link ${readlinkSync(p)} ${meta}`);
    else if (st.isDirectory()) {
      out.set(p, `dir ${meta}`);
      for (const e of readdirSync(p)) walk(join(p, e));
    } else out.set(p, `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${meta} ${st.ino} ${st.mtimeMs}`);
  };
  walk(dir);
  return out;
}
