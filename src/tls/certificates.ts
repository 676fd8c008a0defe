/**
 * A local certificate authority for the TLS listener when the config gives
 * no certificate: a CA kept for years (operators import ca.crt into phones
 * once) and a server certificate it signs, re-issued whenever the served
 * names change or it nears expiry. Keys come from node:crypto (native and
 * fast); node-forge builds and signs the X.509 structures.
 *
 * Files in `dir`: ca.crt, ca.key, server.crt, server.key. A certificate is
 * written after its key, so a crash never leaves a certificate without its
 * key: ca.crt present means the CA is complete.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

const DAY_MS = 86_400_000;
const CA_VALIDITY_YEARS = 10;
/** The longest validity Apple platforms accept for a TLS server certificate. */
const SERVER_VALIDITY_DAYS = 825;
const RENEW_BEFORE_DAYS = 30;
/** Tolerates a phone whose clock is a little behind the server's. */
const BACKDATE_MS = 3_600_000;
const RSA_BITS = 2048;

export interface EnsureServerCertificateOptions {
  /** Folder for the four PEM files, normally `<data_dir>/tls`; created with mode 0700. */
  readonly dir: string;
  /** DNS names the server certificate must hold; the first is also its common name. */
  readonly hostnames: readonly string[];
  /** IPv4/IPv6 addresses the server certificate must hold. */
  readonly ipAddresses: readonly string[];
  /** Current time; defaults to the system clock. */
  readonly now?: Date;
}

export interface ServerCertificate {
  readonly keyPem: string;
  readonly certPem: string;
  readonly caCertPem: string;
  readonly caCertPath: string;
  /** SHA-256 fingerprint of the CA certificate, `AB:CD:…` upper-case, to check what a phone imported. */
  readonly caFingerprintSha256: string;
  /** A new CA (and server certificate) was made: phones must import the new ca.crt. */
  readonly created: boolean;
  /** The CA was kept and a new server certificate was issued. */
  readonly reissued: boolean;
}

/** The CA files exist but cannot be used; voix must not silently replace a CA phones trust. */
export class CertificateStoreError extends Error {
  override readonly name = 'CertificateStoreError';
}

interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

interface StorePaths {
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

function storePaths(dir: string): StorePaths {
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
}

/** A random positive serial (RFC 5280 §4.1.2.2: positive, at most 20 octets), minimally encoded. */
function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes.toString('hex');
}

function generateRsaKeyPair(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: RSA_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

function utf8Attribute(name: string, value: string): forge.pki.CertificateField {
  // forge reads valueTagClass as the ASN.1 string type; @types/node-forge mistypes it as asn1.Class.
  return { name, value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.pki.CertificateField['valueTagClass'] };
}

function createCa(commonName: string, now: Date): PemPair {
  const keys = generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  cert.validity.notAfter = notAfter;
  const name = [utf8Attribute('commonName', commonName), utf8Attribute('organizationName', 'voix')];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

function issueServerCertificate(ca: PemPair, hostnames: readonly string[], ipAddresses: readonly string[], now: Date): PemPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const keys = generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS);
  const commonName = hostnames[0] ?? ipAddresses[0] ?? 'voix';
  cert.setSubject([utf8Attribute('commonName', commonName), utf8Attribute('organizationName', 'voix')]);
  // The issuer must be byte-for-byte the CA's subject for chain building.
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...hostnames.map((value) => ({ type: 2, value })), ...ipAddresses.map((ip) => ({ type: 7, ip }))],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** Write to a temporary file then rename, so a reader never sees half a PEM. */
function writeFileAtomic(path: string, content: string, mode: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}

function writePair(pair: PemPair, certPath: string, keyPath: string): void {
  writeFileAtomic(keyPath, pair.keyPem, 0o600);
  writeFileAtomic(certPath, pair.certPem, 0o644);
}

function expiresSoon(cert: X509Certificate, now: Date): boolean {
  return new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS;
}

/** The stored CA, or null when there is none yet or it is about to expire. */
function loadCa(paths: StorePaths, now: Date): PemPair | null {
  if (!existsSync(paths.caCert)) return null;
  if (!existsSync(paths.caKey)) {
    throw new CertificateStoreError(
      `${paths.caCert} exists but ${paths.caKey} is missing: restore the key, or delete both files to create a new CA (phones must then import the new one)`,
    );
  }
  const certPem = readFileSync(paths.caCert, 'utf8');
  const keyPem = readFileSync(paths.caKey, 'utf8');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('the key does not match the certificate');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CertificateStoreError(`cannot use the CA in ${paths.caCert} and ${paths.caKey}: ${reason}; delete both files to create a new CA`);
  }
  return expiresSoon(cert, now) ? null : { certPem, keyPem };
}

/** The stored server certificate if it is still good for these names, else null. */
function loadServerCertificate(
  paths: StorePaths,
  ca: PemPair,
  hostnames: readonly string[],
  ipAddresses: readonly string[],
  now: Date,
): PemPair | null {
  if (!existsSync(paths.serverCert) || !existsSync(paths.serverKey)) return null;
  try {
    const certPem = readFileSync(paths.serverCert, 'utf8');
    const keyPem = readFileSync(paths.serverKey, 'utf8');
    const cert = new X509Certificate(certPem);
    const caCert = new X509Certificate(ca.certPem);
    const usable =
      cert.checkIssued(caCert) &&
      cert.verify(caCert.publicKey) &&
      cert.checkPrivateKey(createPrivateKey(keyPem)) &&
      new Date(cert.validFrom).getTime() <= now.getTime() &&
      !expiresSoon(cert, now) &&
      hostnames.every((name) => cert.checkHost(name, { subject: 'never', wildcards: false }) !== undefined) &&
      ipAddresses.every((ip) => cert.checkIP(ip) !== undefined);
    return usable ? { certPem, keyPem } : null;
  } catch {
    // The server certificate is disposable: anything unreadable is simply issued again.
    return null;
  }
}

function checkNames(hostnames: readonly string[], ipAddresses: readonly string[]): void {
  if (hostnames.length === 0 && ipAddresses.length === 0) {
    throw new RangeError('a server certificate needs at least one host name or IP address');
  }
  for (const name of hostnames) {
    if (name === '' || isIP(name) !== 0) throw new RangeError(`not a DNS name: "${name}" (put IP addresses in ipAddresses)`);
  }
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw new RangeError(`not an IP address: "${ip}"`);
  }
}

/**
 * Returns a server certificate for `hostnames` and `ipAddresses` signed by
 * the local CA in `dir`, creating the CA on first use and re-issuing the
 * server certificate when a requested name is missing from it or it expires
 * within 30 days.
 */
export function ensureServerCertificate(options: EnsureServerCertificateOptions): ServerCertificate {
  const now = options.now ?? new Date();
  const hostnames = [...new Set(options.hostnames.map((h) => h.toLowerCase()))];
  const ipAddresses = [...new Set(options.ipAddresses)];
  checkNames(hostnames, ipAddresses);

  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  chmodSync(options.dir, 0o700);
  const paths = storePaths(options.dir);

  let ca = loadCa(paths, now);
  const created = ca === null;
  if (ca === null) {
    ca = createCa(`voix local CA ${hostnames[0] ?? osHostname()}`, now);
    writePair(ca, paths.caCert, paths.caKey);
  } else {
    chmodSync(paths.caKey, 0o600);
  }

  let server = created ? null : loadServerCertificate(paths, ca, hostnames, ipAddresses, now);
  const reissued = !created && server === null;
  if (server === null) {
    server = issueServerCertificate(ca, hostnames, ipAddresses, now);
    writePair(server, paths.serverCert, paths.serverKey);
  } else {
    chmodSync(paths.serverKey, 0o600);
  }

  return {
    keyPem: server.keyPem,
    certPem: server.certPem,
    caCertPem: ca.certPem,
    caCertPath: paths.caCert,
    caFingerprintSha256: new X509Certificate(ca.certPem).fingerprint256,
    created,
    reissued,
  };
}
