/**
 * The TLS certificate and key a configuration names (server.listen.tls),
 * checked when the configuration is loaded (voix check, start, reload):
 * both readable, PEM that Node's TLS accepts, and the key the
 * certificate's. Otherwise the server would stop at its first TLS listen,
 * and systemd would restart it into the same error. An expired certificate
 * is a warning: phones refuse it, but the rest of the server works.
 */
import { createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import { X509Certificate as CryptoX509 } from 'node:crypto';
import { describeReadError } from './load.js';
import type { VoixConfig } from './types.js';

export interface TlsFileProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const CERTIFICATE_PATH = ['server', 'listen', 'tls', 'certificate'] as const;
const KEY_PATH = ['server', 'listen', 'tls', 'key'] as const;

function read(file: string, path: readonly string[], problems: TlsFileProblem[]): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    problems.push({ path, message: `cannot read ${file}: ${describeReadError(error)}` });
    return null;
  }
}

/** Errors (the server could not listen for TLS) and warnings, each at its key. `now`: for the expiry warning. */
export function checkTlsFiles(config: VoixConfig, now = new Date()): { readonly errors: TlsFileProblem[]; readonly warnings: TlsFileProblem[] } {
  const errors: TlsFileProblem[] = [];
  const warnings: TlsFileProblem[] = [];
  const files = config.server.listen.tls?.certificate ?? null;
  if (files === null) return { errors, warnings };
  const cert = read(files.certificateFile, CERTIFICATE_PATH, errors);
  const key = read(files.keyFile, KEY_PATH, errors);
  if (cert === null || key === null) return { errors, warnings };
  let certificate: CryptoX509;
  try {
    certificate = new CryptoX509(cert);
  } catch (error) {
    errors.push({ path: CERTIFICATE_PATH, message: `${files.certificateFile} is not a PEM certificate (${error instanceof Error ? error.message : String(error)})` });
    return { errors, warnings };
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const mismatch = /key values mismatch/i.test(reason);
    errors.push({
      path: KEY_PATH,
      message: mismatch ? `${files.keyFile} is not the key of the certificate ${files.certificateFile}` : `${files.keyFile} is not a usable PEM private key (${reason})`,
    });
    return { errors, warnings };
  }
  if (new Date(certificate.validTo).getTime() < now.getTime()) {
    warnings.push({ path: CERTIFICATE_PATH, message: `the certificate ${files.certificateFile} expired on ${new Date(certificate.validTo).toISOString().slice(0, 10)}: phones will refuse TLS` });
  }
  return { errors, warnings };
}
