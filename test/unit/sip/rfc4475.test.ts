import { describe, expect, it } from 'vitest';
import { VOIX_CAPABILITIES } from '../../../src/core/capabilities.js';
import { getParam } from '../../../src/sip/grammar.js';
import { parseContacts } from '../../../src/sip/headers.js';
import { parseDatagram } from '../../../src/sip/parser.js';
import { checkRequest } from '../../../src/sip/request-checks.js';
import { isSipUri } from '../../../src/sip/uri.js';
import { TORTURE_CASES, readTorture } from '../../support/rfc4475.js';

describe('RFC 4475 torture messages: parser and UAS checks', () => {
  it('covers all 49 messages', () => {
    expect(TORTURE_CASES).toHaveLength(49);
  });

  it.each(TORTURE_CASES.map((c) => [c.section, c.file, c] as const))('§%s %s', (_section, _file, c) => {
    const result = parseDatagram(readTorture(c.file));
    expect(result.ok).toBe(c.parses);
    if (!result.ok) {
      // A request gets the status; a broken response is dropped, never answered.
      if (c.answer === 'drop') expect(result.isRequest).toBe(false);
      else expect(result.status).toBe(c.check);
      return;
    }
    if (result.message.kind === 'response') {
      expect(c.answer).toBe('drop');
      return;
    }
    const rejection = checkRequest(result.message, VOIX_CAPABILITIES);
    expect(rejection?.status ?? null).toBe(c.check);
  });
});

describe('RFC 4475 details', () => {
  const request = (file: string) => {
    const r = parseDatagram(readTorture(file));
    if (!r.ok || r.message.kind !== 'request') throw new Error(`${file} should parse as a request`);
    return r.message;
  };

  it('§3.1.1.1 reads folded, spaced and compact headers of wsinv', () => {
    const req = request('wsinv.dat');
    expect(req.maxForwards).toBe(68);
    expect(req.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(req.from.displayName).toBe('J Rosenberg \\"');
    expect(req.via.map((v) => [v.transport, v.host])).toEqual([
      ['UDP', '192.0.2.2'],
      ['TCP', 'spindle.example.com'],
      ['UDP', '192.168.255.111'],
    ]);
    expect(req.headers.get('newfangledheader')).toBe('newfangled value continued newfangled value');
    expect(req.headers.get('subject')).toBe('');
    expect(req.body.length).toBe(150);
  });

  it('§3.1.1.3 keeps escapes in URIs and URI parameters', () => {
    const req = request('esc01.dat');
    expect(isSipUri(req.uri) && req.uri.user).toBe('sips%3Auser%40example.com');
    const contacts = parseContacts(req.headers.getAll('contact'));
    expect(contacts?.wildcard === false && contacts.contacts[0]?.uri).toMatchObject({ params: [{ name: '%6c%72', value: null }, { name: 'n%61me', value: 'v%61lue%25%34%31' }] });
  });

  it('§3.1.1.8 takes the first request of dblreq and ignores the rest of the datagram', () => {
    const req = request('dblreq.dat');
    expect(req.method).toBe('REGISTER');
    expect(req.body.length).toBe(0);
  });

  it('§3.2.1 sees the bare magic cookie branch of badbranch', () => {
    expect(getParam(request('badbranch.dat').topVia.params, 'branch')?.value).toBe('z9hG4bK');
  });

  it('§3.3.12/13 tells a Contact parameter from a URI parameter', () => {
    const c1 = parseContacts(request('cparam01.dat').headers.getAll('contact'));
    const c2 = parseContacts(request('cparam02.dat').headers.getAll('contact'));
    const first = c1?.wildcard === false ? c1.contacts[0] : undefined;
    const second = c2?.wildcard === false ? c2.contacts[0] : undefined;
    expect(first?.params).toEqual([{ name: 'unknownparam', value: null }]);
    expect(first?.uri && isSipUri(first.uri) && first.uri.params).toEqual([]);
    expect(second?.params).toEqual([]);
    expect(second?.uri && isSipUri(second.uri) && second.uri.params).toEqual([{ name: 'unknownparam', value: null }]);
  });

  it('§3.3.14 keeps the escaped Route of regescrt inside the contact URI headers', () => {
    const c = parseContacts(request('regescrt.dat').headers.getAll('contact'));
    const uri = c?.wildcard === false ? c.contacts[0]?.uri : undefined;
    expect(uri && isSipUri(uri) && uri.headers).toBe('Route=%3Csip:sip.example.com%3E');
  });

  it('§3.3.5 lists both unknown Require tags in Unsupported', () => {
    const rejection = checkRequest(request('bext01.dat'), VOIX_CAPABILITIES);
    expect(rejection?.headers).toContainEqual(['Unsupported', 'nothingSupportsThis, nothingSupportsThisEither']);
  });
});
