import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM texts of a certificate and its private key. */
export interface TestCertificate {
  cert: string;
  key: string;
}

/**
 * A certificate authority made for a test with openssl: a server certificate for 127.0.0.1 and client certificates
 * for given subjects (CN), as a tenant's mutual-TLS clients would hold. The files live in a temporary directory that
 * `dispose` removes.
 */
export interface TestCa {
  ca: string;
  server: TestCertificate;
  client(commonName: string): TestCertificate;
  dispose(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes a CA (EC P-256 keys, valid a day) and its server certificate. */
export function createTestCa(name = 'sesflow test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'sesflow-test-ca-'));
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-sha256',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-out',
    'ca.pem',
  ]);
  let serial = 1;
  const issue = (cn: string, ext: string): TestCertificate => {
    const base = `cert-${serial}`;
    openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${base}.key`]);
    openssl(dir, ['req', '-new', '-key', `${base}.key`, '-subj', `/CN=${cn}/O=sesflow tests`, '-out', `${base}.csr`]);
    writeFileSync(join(dir, `${base}.ext`), ext);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      String(serial++),
      '-days',
      '1',
      '-sha256',
      '-extfile',
      `${base}.ext`,
      '-out',
      `${base}.pem`,
    ]);
    return {
      cert: readFileSync(join(dir, `${base}.pem`), 'utf8'),
      key: readFileSync(join(dir, `${base}.key`), 'utf8'),
    };
  };
  const server = issue('127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  return {
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    server,
    client: (cn) => issue(cn, 'extendedKeyUsage=clientAuth\n'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
