import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A throwaway test PKI made with openssl at test time (EC P-256): a CA, a server certificate for 127.0.0.1 and
 * client certificates whose CN is the MQTT username (mosquitto `use_identity_as_username`).
 */
export interface ClientCert {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  ca: string;
  server: ClientCert;
  client(cn: string): ClientCert;
  /** a client certificate valid for `days` (a fresh key each call), named `name` in the directory */
  clientFor(name: string, cn: string, days: number): ClientCert;
  /** what the carrier's CA does with a device's renewal CSR: a PEM certificate valid for `days` */
  signCsr(csrPem: string, days: number): string;
  /** the CA's revocation list (PEM file, for mosquitto `crlfile`) after revoking `certFile`; none revoked without one */
  crl(revokeCertFile?: string): string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `caName` makes a CA with another name (a CA the device does not pin) */
export function createPki(dir: string, caName = 'regterm-test-ca'): TestPki {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', `/CN=${caName}`, '-days', '400'], dir);
  const signRequest = (csr: string, out: string, days: number) => openssl(['x509', '-req', '-in', csr, '-CA', 'ca.crt',
    '-CAkey', 'ca.key', '-out', out, '-days', String(days), '-set_serial', `0x${randomBytes(8).toString('hex')}`], dir);
  // 90 days: outside the agent's default renewal margin (30), so only the renewal tests see certificate_expiring
  const sign = (name: string, cn: string, ext?: string, days = 90) => {
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
    const args = ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-out', `${name}.crt`,
      '-days', String(days), '-set_serial', `0x${randomBytes(8).toString('hex')}`];
    if (ext) {
      writeFileSync(join(dir, `${name}.ext`), ext);
      args.push('-extfile', `${name}.ext`);
    }
    openssl(args, dir);
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  };
  const server = sign('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const issued = new Map<string, ClientCert>();
  return {
    dir, ca: join(dir, 'ca.crt'), server,
    client(cn: string): ClientCert {
      let c = issued.get(cn);
      if (!c) {
        c = sign(`client-${cn}`, cn);
        issued.set(cn, c);
      }
      return c;
    },
    clientFor(name: string, cn: string, days: number): ClientCert {
      return sign(name, cn, undefined, days);
    },
    crl(revokeCertFile?: string): string {
      const conf = join(dir, 'crl-ca.cnf');
      if (!existsSync(conf)) {
        writeFileSync(join(dir, 'index.txt'), '');
        writeFileSync(conf, 'default_ca = ca\n[ca]\ndatabase = index.txt\ndefault_md = sha256\ndefault_crl_days = 2\n');
      }
      const ca = ['-config', conf, '-keyfile', 'ca.key', '-cert', 'ca.crt'];
      if (revokeCertFile) openssl(['ca', ...ca, '-revoke', revokeCertFile], dir);
      openssl(['ca', ...ca, '-gencrl', '-out', 'crl.pem'], dir);
      return join(dir, 'crl.pem');
    },
    signCsr(csrPem: string, days: number): string {
      const name = `csr-${randomBytes(6).toString('hex')}`;
      writeFileSync(join(dir, `${name}.csr`), csrPem);
      signRequest(`${name}.csr`, `${name}.crt`, days);
      return readFileSync(join(dir, `${name}.crt`), 'utf8');
    },
  };
}
