/**
 * Throwaway TLS material made with the openssl command line: a CA, a server
 * certificate it signs, and an unrelated CA (to check that a client refuses
 * a server it should not trust). ECDSA P-256, valid one day.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './cleanup.js';
import { runProcess } from './process.js';

export interface TestCertificates {
  readonly dir: string;
  /** PEM of the CA that signed the server certificate. */
  readonly caFile: string;
  /** PEM of a CA that signed nothing here. */
  readonly otherCaFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface CertificateOptions {
  /** Subject alternative names of the server certificate; default DNS:voix.test and IP:127.0.0.1. */
  readonly subjectAltNames?: readonly string[];
  readonly commonName?: string;
}

export async function makeTestCertificates(options: CertificateOptions = {}): Promise<TestCertificates> {
  const dir = await makeTempDir('certificates');
  const openssl = async (args: readonly string[]): Promise<void> => {
    const result = await runProcess('openssl', args, { cwd: dir, timeoutMs: 20_000, label: 'openssl' });
    if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${result.stderr}`);
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(['req', '-x509', ...newKey, '-days', '1', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=voix e2e test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await openssl(['req', '-x509', ...newKey, '-days', '1', '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-subj', '/CN=unrelated test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE']);
  await openssl(['req', ...newKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${options.commonName ?? 'voix.test'}`]);
  const names = options.subjectAltNames ?? ['DNS:voix.test', 'IP:127.0.0.1'];
  await writeFile(join(dir, 'server.ext'), `subjectAltName=${names.join(',')}\nextendedKeyUsage=serverAuth\n`);
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
    '-out', 'server.crt', '-extfile', 'server.ext']);
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    otherCaFile: join(dir, 'other-ca.crt'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
  };
}
