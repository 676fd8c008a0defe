import { createPrivateKey, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CertificateStoreError, ensureServerCertificate, type ServerCertificate } from '../../../src/tls/certificates.js';

const DAY_MS = 86_400_000;
const NOW = new Date('2026-01-15T12:00:00Z');

let root: string;
let dir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'voix-tls-'));
  dir = join(root, 'tls');
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function ensure(hostnames = ['voix.local'], ipAddresses = ['127.0.0.1'], now = NOW): ServerCertificate {
  return ensureServerCertificate({ dir, hostnames, ipAddresses, now });
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('ensureServerCertificate: first call', () => {
  // Key generation dominates the run time: these read-only checks share one store.
  let firstDir: string;
  let first: ServerCertificate;
  beforeAll(() => {
    firstDir = mkdtempSync(join(tmpdir(), 'voix-tls-first-'));
    first = ensureServerCertificate({ dir: join(firstDir, 'tls'), hostnames: ['voix.local', 'pbx.example.com'], ipAddresses: ['127.0.0.1', '::1'], now: NOW });
  });
  afterAll(() => {
    rmSync(firstDir, { recursive: true, force: true });
  });

  it('creates a CA and a server certificate that verifies against it', () => {
    const result = first;

    const ca = new X509Certificate(result.caCertPem);
    const server = new X509Certificate(result.certPem);
    expect(result).toMatchObject({ created: true, reissued: false, caCertPath: join(firstDir, 'tls', 'ca.crt') });
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkPrivateKey(createPrivateKey(result.keyPem))).toBe(true);
  });

  it('makes a CA certificate for signing only, named after the host, valid 10 years', () => {
    const ca = new X509Certificate(first.caCertPem);

    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain('CN=voix local CA voix.local');
    expect(ca.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const years = (new Date(ca.validTo).getTime() - NOW.getTime()) / (365.25 * DAY_MS);
    expect(years).toBeCloseTo(10, 1);
    const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'basicConstraints,keyUsage', '-in', join(firstDir, 'tls', 'ca.crt')], { encoding: 'utf8' });
    expect(text).toMatch(/critical\s+CA:TRUE/);
    expect(text).toMatch(/critical\s+Certificate Sign, CRL Sign/);
  });

  it('lists every name and address in the server certificate, for TLS server use, valid 825 days', () => {
    const server = new X509Certificate(first.certPem);

    expect(server.ca).toBe(false);
    expect(server.subjectAltName).toBe('DNS:voix.local, DNS:pbx.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(server.checkHost('voix.local')).toBe('voix.local');
    expect(server.checkHost('pbx.example.com')).toBe('pbx.example.com');
    expect(server.checkHost('other.example.com')).toBeUndefined();
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBeDefined();
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(new Date(server.validTo).getTime() - NOW.getTime()).toBe(825 * DAY_MS);
    expect(server.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('uses random positive serial numbers', () => {
    const result = first;

    const serials = [result.caCertPem, result.certPem].map((pem) => new X509Certificate(pem).serialNumber);
    expect(serials[0]).not.toBe(serials[1]);
    for (const serial of serials) expect(Number.parseInt(serial?.slice(0, 2) ?? 'ff', 16)).toBeLessThan(0x80);
  });

  it('writes the four files, keys readable by the owner only, in a 0700 folder', () => {
    const tlsDir = join(firstDir, 'tls');

    for (const name of ['ca.crt', 'ca.key', 'server.crt', 'server.key']) expect(existsSync(join(tlsDir, name))).toBe(true);
    expect(mode(join(tlsDir, 'ca.key'))).toBe(0o600);
    expect(mode(join(tlsDir, 'server.key'))).toBe(0o600);
    expect(mode(tlsDir)).toBe(0o700);
  });

  it('gives the CA fingerprint as upper-case hex pairs', () => {
    const result = first;

    expect(result.caFingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(result.caFingerprintSha256).toBe(new X509Certificate(result.caCertPem).fingerprint256);
  });

  it('produces files that `openssl verify` accepts for a TLS server', () => {
    const tlsDir = join(firstDir, 'tls');

    const output = execFileSync('openssl', ['verify', '-CAfile', join(tlsDir, 'ca.crt'), '-purpose', 'sslserver', join(tlsDir, 'server.crt')], {
      encoding: 'utf8',
    });
    expect(output.trim()).toBe(`${join(tlsDir, 'server.crt')}: OK`);
  });
});

describe('ensureServerCertificate: later calls', () => {
  it('reuses the CA and server certificate when nothing changed', () => {
    const first = ensure();

    const second = ensure(['voix.local'], ['127.0.0.1'], new Date(NOW.getTime() + DAY_MS));

    expect(second).toMatchObject({ created: false, reissued: false, caFingerprintSha256: first.caFingerprintSha256 });
    expect(second.certPem).toBe(first.certPem);
    expect(second.keyPem).toBe(first.keyPem);
  });

  it('reuses a certificate that holds more names than asked for', () => {
    const first = ensure(['voix.local', 'pbx.example.com'], ['127.0.0.1']);

    const second = ensure(['PBX.example.com'], []);

    expect(second.reissued).toBe(false);
    expect(second.certPem).toBe(first.certPem);
  });

  it('re-issues the server certificate, keeping the CA, when a name is added', () => {
    const first = ensure();

    const second = ensure(['voix.local', 'pbx.example.com'], ['127.0.0.1', '192.0.2.10']);

    expect(second).toMatchObject({ created: false, reissued: true, caFingerprintSha256: first.caFingerprintSha256, caCertPem: first.caCertPem });
    const server = new X509Certificate(second.certPem);
    expect(server.checkHost('pbx.example.com')).toBe('pbx.example.com');
    expect(server.checkIP('192.0.2.10')).toBe('192.0.2.10');
    expect(server.verify(new X509Certificate(first.caCertPem).publicKey)).toBe(true);
    expect(second.keyPem).not.toBe(first.keyPem);
  });

  it('re-issues the server certificate when it expires within 30 days', () => {
    const first = ensure();

    const at794Days = ensure(['voix.local'], ['127.0.0.1'], new Date(NOW.getTime() + 794 * DAY_MS));
    const at796Days = ensure(['voix.local'], ['127.0.0.1'], new Date(NOW.getTime() + 796 * DAY_MS));

    expect(at794Days.reissued).toBe(false);
    expect(at796Days).toMatchObject({ created: false, reissued: true, caFingerprintSha256: first.caFingerprintSha256 });
    expect(new Date(new X509Certificate(at796Days.certPem).validTo).getTime()).toBe(NOW.getTime() + (796 + 825) * DAY_MS);
  });

  it('re-issues a server certificate whose files are damaged or missing', () => {
    ensure();
    writeFileSync(join(dir, 'server.crt'), 'not a certificate');

    expect(ensure().reissued).toBe(true);

    unlinkSync(join(dir, 'server.key'));
    expect(ensure().reissued).toBe(true);
  });

  it('refuses to replace a CA whose key is missing', () => {
    ensure();
    unlinkSync(join(dir, 'ca.key'));

    expect(() => ensure()).toThrow(CertificateStoreError);
  });

  it('refuses a CA whose key does not match its certificate', () => {
    const first = ensure();
    writeFileSync(join(dir, 'ca.key'), first.keyPem);

    expect(() => ensure()).toThrow(/does not match/);
  });
});

describe('ensureServerCertificate: arguments', () => {
  it('needs at least one name, DNS names as hostnames and IPs as ipAddresses', () => {
    expect(() => ensure([], [])).toThrow(RangeError);
    expect(() => ensure(['127.0.0.1'], [])).toThrow(/not a DNS name/);
    expect(() => ensure(['voix.local'], ['voix.local'])).toThrow(/not an IP address/);
  });
});
