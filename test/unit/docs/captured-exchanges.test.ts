/**
 * docs/concepts/echanges-captures.md is a real capture (scripts/capture-ladders.ts):
 * the digest responses in it are those of the test passwords, recomputed here
 * with RFC 7616's formula, and the worked example of docs/concepts/sip.md quotes
 * the values of that capture (regenerating the capture means updating the example).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs');
const captured = readFileSync(path.join(DOCS, 'concepts/echanges-captures.md'), 'utf8');
const sipPage = readFileSync(path.join(DOCS, 'concepts/sip.md'), 'utf8');
const sdpPage = readFileSync(path.join(DOCS, 'concepts/sdp-rtp-codecs.md'), 'utf8');

/** The passwords scripts/capture-ladders.ts gives the two phones. */
const PASSWORDS: Readonly<Record<string, string>> = { '1001': 'Tournesol-Bleu-1001', '1002': 'Cerisier-Rouge-1002' };

interface CapturedCredentials {
  readonly method: string;
  readonly fields: Readonly<Record<string, string>>;
}

function credentialsIn(page: string): CapturedCredentials[] {
  const found: CapturedCredentials[] = [];
  for (const block of page.split('```http').slice(1)) {
    const message = block.slice(0, block.indexOf('```'));
    const header = /^(?:Proxy-)?Authorization:\s*Digest\s+(.*)$/m.exec(message)?.[1];
    if (header === undefined) continue;
    const fields = Object.fromEntries([...header.matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)].map((m) => [m[1] ?? '', m[2] ?? m[3] ?? '']));
    found.push({ method: /^\s*(\w+) /.exec(message)?.[1] ?? '', fields });
  }
  return found;
}

function digest(algorithm: string, text: string): string {
  return createHash(algorithm.toUpperCase() === 'SHA-256' ? 'sha256' : 'md5').update(text).digest('hex');
}

describe('captured SIP exchanges', () => {
  const credentials = credentialsIn(captured);

  it('hold digest answers in both algorithms', () => {
    const algorithms = new Set(credentials.map((c) => (c.fields['algorithm'] ?? 'MD5').toUpperCase()));
    expect([...algorithms].sort()).toEqual(['MD5', 'SHA-256']);
  });

  it('every digest response is the one of the test password (RFC 7616 §3.4.1, qop=auth)', () => {
    expect(credentials.length).toBeGreaterThanOrEqual(3);
    for (const { method, fields } of credentials) {
      const algorithm = fields['algorithm'] ?? 'MD5';
      const user = fields['username'] ?? '';
      const password = PASSWORDS[user];
      expect(password, `password of ${user}`).toBeDefined();
      const ha1 = digest(algorithm, `${user}:${fields['realm'] ?? ''}:${password ?? ''}`);
      // Linphone repeats the INVITE's Proxy-Authorization on the ACK of the 200: computed for INVITE.
      const ha2 = digest(algorithm, `${method === 'ACK' ? 'INVITE' : method}:${fields['uri'] ?? ''}`);
      const expected = digest(algorithm, `${ha1}:${fields['nonce'] ?? ''}:${fields['nc'] ?? ''}:${fields['cnonce'] ?? ''}:${fields['qop'] ?? ''}:${ha2}`);
      expect(fields['response'], `${method} from ${user} (${algorithm})`).toBe(expected);
    }
  });

  it('the worked example of sip.md quotes the capture', () => {
    const register = credentials.find((c) => c.method === 'REGISTER' && c.fields['username'] === '1002');
    expect(register).toBeDefined();
    const fields = register?.fields ?? {};
    expect(sipPage).toContain(`response="${(fields['response'] ?? '').slice(0, 8)}…"`);
    expect(sipPage).toContain(`:${fields['nc'] ?? ''}:${fields['cnonce'] ?? ''}:auth:HA2`);
    expect(sipPage).toContain(`HA2 = MD5("REGISTER:${fields['uri'] ?? ''}")`);
    expect(sipPage).toContain(`nonce="${(fields['nonce'] ?? '').slice(0, 12)}…"`);
  });

  it('the SDP excerpt of sdp-rtp-codecs.md is Linphone\'s captured offer, line for line', () => {
    const excerpt = /```text\n(v=0\n[\s\S]*?)```/.exec(sdpPage)?.[1] ?? '';
    const lines = excerpt.split('\n').map((line) => line.replace(/\s+←.*$/, '').trim()).filter((line) => line.length > 0);
    expect(lines.length).toBeGreaterThan(8);
    const capturedLines = new Set(captured.split('\n'));
    expect(lines.filter((line) => !capturedLines.has(line))).toEqual([]);
  });
});
