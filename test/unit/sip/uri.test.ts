import { describe, expect, it } from 'vitest';
import { formatUri, isSipUri, parseUri, sipUrisEqual, unescapeUriPart, type SipUri } from '../../../src/sip/uri.js';

function sip(text: string): SipUri {
  const uri = parseUri(text);
  if (uri === null || !isSipUri(uri)) throw new Error(`not a SIP URI: ${text}`);
  return uri;
}

describe('parseUri', () => {
  it('splits user, password, host, port, parameters and headers', () => {
    const uri = sip('sips:alice:secret@atlanta.example.com:5061;transport=tls;lr?subject=project%20x&priority=urgent');
    expect(uri).toMatchObject({
      scheme: 'sips',
      user: 'alice',
      password: 'secret',
      host: 'atlanta.example.com',
      port: 5061,
      headers: 'subject=project%20x&priority=urgent',
    });
    expect(uri.params).toEqual([
      { name: 'transport', value: 'tls' },
      { name: 'lr', value: null },
    ]);
  });

  it('keeps a semicolon inside the user part (RFC 4475 §3.1.1.9)', () => {
    const uri = sip('sip:user;par=u%40example.net@example.com');
    expect(uri.user).toBe('user;par=u%40example.net');
    expect(uri.host).toBe('example.com');
    expect(uri.params).toEqual([]);
  });

  it('reads an IPv6 reference with a port', () => {
    const uri = sip('sip:1001@[2001:db8::10]:5070');
    expect(uri.host).toBe('[2001:db8::10]');
    expect(uri.port).toBe(5070);
  });

  it('parses tel URIs and keeps unknown schemes opaque', () => {
    expect(parseUri('tel:+33123456789;phone-context=example.com')).toMatchObject({
      scheme: 'tel',
      number: '+33123456789',
      params: [{ name: 'phone-context', value: 'example.com' }],
    });
    expect(parseUri('isbn:2983792873')).toEqual({ scheme: 'isbn', opaque: '2983792873' });
  });

  it.each(['<sip:user@example.com>', 'sip:user@example.com; lr', 'sip:', 'sip:us er@example.com', 'sip:user@host:99999', 'sip:a%4@example.com', ':nothing'])(
    'refuses %j',
    (text) => {
      expect(parseUri(text)).toBeNull();
    },
  );

  it('formats what it parses', () => {
    for (const text of ['sip:alice@example.com', 'sips:bob@[::1]:5061;transport=tls', 'sip:example.com;lr', 'tel:+33612345678', 'sip:a@b?x=y']) {
      const uri = parseUri(text);
      expect(uri).not.toBeNull();
      expect(formatUri(uri!)).toBe(text);
    }
  });
});

describe('sipUrisEqual (RFC 3261 §19.1.4)', () => {
  it('compares hosts without case and users after unescaping', () => {
    expect(sipUrisEqual(sip('sip:%61lice@ATLANTA.com;transport=TCP'), sip('sip:alice@AtLanTa.CoM;Transport=tcp'))).toBe(true);
  });

  it('tells apart URIs that differ in port, user or transport', () => {
    expect(sipUrisEqual(sip('sip:alice@atlanta.com'), sip('sip:alice@atlanta.com:5060'))).toBe(false);
    expect(sipUrisEqual(sip('sip:ALICE@atlanta.com'), sip('sip:alice@atlanta.com'))).toBe(false);
    expect(sipUrisEqual(sip('sip:bob@biloxi.com;transport=udp'), sip('sip:bob@biloxi.com'))).toBe(false);
  });

  it('ignores a parameter present on one side only unless it is compared always', () => {
    expect(sipUrisEqual(sip('sip:carol@chicago.com;newparam=5'), sip('sip:carol@chicago.com'))).toBe(true);
    expect(sipUrisEqual(sip('sip:carol@chicago.com;newparam=5'), sip('sip:carol@chicago.com;newparam=6'))).toBe(false);
  });
});

describe('unescapeUriPart', () => {
  it('decodes %HH escapes', () => {
    expect(unescapeUriPart('%75se%72')).toBe('user');
    expect(unescapeUriPart('null-%00-null')).toBe('null-\u0000-null');
  });
});
