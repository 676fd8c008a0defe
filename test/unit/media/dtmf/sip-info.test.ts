import { describe, expect, it } from 'vitest';
import { parseDtmfBody, parseDtmfRelayBody, parseSipInfoDtmf } from '../../../../src/media/dtmf/sip-info.js';

describe('parseDtmfRelayBody (application/dtmf-relay)', () => {
  it.each([
    ['the usual CRLF form', 'Signal=5\r\nDuration=160\r\n', '5', 160],
    ['LF-only lines', 'Signal=5\nDuration=160\n', '5', 160],
    ['CR-only lines', 'Signal=5\rDuration=160', '5', 160],
    ['spaces around = and the value', 'Signal= *\r\nDuration= 250\r\n', '*', 250],
    ['any case in keys and the a-d digits', 'SIGNAL = b\r\nduration=100', 'B', 100],
    ['a colon instead of =', 'Signal: #\r\nDuration: 120', '#', 120],
    ['lines in another order, blank and unknown lines', '\r\nDuration=90\r\nFoo=bar\r\n\r\nSignal=0\r\n\r\n', '0', 90],
    ['no Duration line', 'Signal=9', '9', undefined],
    ['an unusable Duration (the digit is kept)', 'Signal=7\r\nDuration=abc', '7', undefined],
    ['a zero Duration', 'Signal=7\r\nDuration=0', '7', undefined],
    ['the RFC 4733 event code instead of the character (11 = #)', 'Signal=11\r\nDuration=160', '#', 160],
    ['event code 10 = *', 'Signal=10', '*', undefined],
    ['event code 15 = D', 'Signal=15', 'D', undefined],
    ['a UTF-8 byte-order mark', '\ufeffSignal=3\r\n', '3', undefined],
    ['the first of two Signal lines', 'Signal=1\r\nSignal=2\r\n', '1', undefined],
  ])('reads %s', (_name, body, digit, durationMs) => {
    expect(parseDtmfRelayBody(body)).toEqual({ ok: true, digit, durationMs });
  });

  it('reads a body given as bytes', () => {
    expect(parseDtmfRelayBody(Buffer.from('Signal=4\r\nDuration=200\r\n'))).toEqual({ ok: true, digit: '4', durationMs: 200 });
  });

  it.each([
    ['an empty body', '', 'empty dtmf-relay body'],
    ['a blank body', '\r\n \r\n', 'empty dtmf-relay body'],
    ['no Signal line', 'Duration=160\r\n', 'dtmf-relay body without a Signal line'],
    ['an empty Signal', 'Signal=\r\nDuration=160', 'Signal=: no digit'],
    ['a letter that is not A-D', 'Signal=E', 'Signal=E: not a DTMF digit (0-9, *, #, A-D)'],
    ['two digits', 'Signal=55', 'Signal=55: event code 55 is not a DTMF digit (0-15)'],
    ['a word', 'Signal=five', 'Signal=five: not a DTMF digit (0-9, *, #, A-D)'],
    ['hook flash as !', 'Signal=!', 'Signal=!: hook flash is not a DTMF digit'],
    ['hook flash as event 16', 'Signal=16', 'Signal=16: hook flash (event 16) is not a DTMF digit'],
    ['a body that is not key=value lines', 'hello world', 'dtmf-relay body without a Signal line'],
  ])('refuses %s with a reason and 400', (_name, body, reason) => {
    expect(parseDtmfRelayBody(body)).toEqual({ ok: false, status: 400, reason });
  });
});

describe('parseDtmfBody (application/dtmf)', () => {
  it.each([
    ['5', '5'],
    ['5\r\n', '5'],
    ['  #  \n', '#'],
    ['c', 'C'],
    ['11', '#'],
    ['0', '0'],
  ])('reads %j as %s', (body, digit) => {
    expect(parseDtmfBody(body)).toEqual({ ok: true, digit, durationMs: undefined });
  });

  it.each([
    ['', 'empty application/dtmf body'],
    ['\r\n', 'empty application/dtmf body'],
    ['x', 'application/dtmf body "x": not a DTMF digit (0-9, *, #, A-D)'],
    ['Signal=5', 'application/dtmf body "Signal=5": not a DTMF digit (0-9, *, #, A-D)'],
    ['99', 'application/dtmf body "99": event code 99 is not a DTMF digit (0-15)'],
  ])('refuses %j with a reason and 400', (body, reason) => {
    expect(parseDtmfBody(body)).toEqual({ ok: false, status: 400, reason });
  });
});

describe('parseSipInfoDtmf', () => {
  it('chooses the format by Content-Type, ignoring case and parameters', () => {
    expect(parseSipInfoDtmf('Application/DTMF-Relay; charset=utf-8', 'Signal=1\r\nDuration=100')).toEqual({
      ok: true,
      digit: '1',
      durationMs: 100,
    });
    expect(parseSipInfoDtmf(' application/dtmf ', '2')).toEqual({ ok: true, digit: '2', durationMs: undefined });
  });

  it('answers 415 for a body that is not DTMF', () => {
    expect(parseSipInfoDtmf('application/media_control+xml', '<media_control/>')).toEqual({
      ok: false,
      status: 415,
      reason: 'Content-Type application/media_control+xml is not application/dtmf-relay or application/dtmf',
    });
    expect(parseSipInfoDtmf(undefined, '')).toEqual({ ok: false, status: 415, reason: 'INFO without a Content-Type: not DTMF' });
  });
});
