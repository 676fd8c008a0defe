/**
 * Contact import from CSV files as spreadsheets really write them (files in
 * a temporary directory; the sink is an in-memory fake of the campaign
 * store's boundary: one contact per number).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactFileError, detectDelimiter, detectEncoding, importContacts, type ContactSink, type ImportedContact, type ImportProblem } from '../../../src/dialer/contact-import.js';
import { createImportReport, importReportPath } from '../../../src/dialer/import-report.js';
import { normalisePhoneNumber } from '../../../src/dialer/phone-number.js';

class MemorySink implements ContactSink {
  readonly contacts: ImportedContact[] = [];
  private readonly byPhone = new Map<string, number>();

  add(contact: ImportedContact): Promise<'added' | { duplicateOfLine: number }> {
    const first = this.byPhone.get(contact.phone);
    if (first !== undefined) return Promise.resolve({ duplicateOfLine: first });
    this.byPhone.set(contact.phone, contact.line);
    this.contacts.push(contact);
    return Promise.resolve('added');
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'voix-contacts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function csv(name: string, content: string | Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

async function run(file: string) {
  const sink = new MemorySink();
  const problems: Array<ImportProblem & { kind: string }> = [];
  const summary = await importContacts(file, sink, { onProblem: (p) => problems.push(p) });
  return { sink, problems, summary };
}

describe('importContacts', () => {
  it('a bad file: reports each bad row by line and reason, imports every good row exactly once', async () => {
    const file = await csv(
      'bad.csv',
      [
        'Prénom;Nom;Téléphone;Ville',
        'Hélène;Dupont;06 12 34 56 78;Lyon', // 2: good
        'Marc;Martin;;Paris', // 3: empty phone
        'Anne;Leroy;12345;Nantes', // 4: invalid number
        'Paul,Durand,0612345679,Lille', // 5: wrong delimiter: one field
        'Léa;Petit;+33 6 12 34 56 78;Lyon', // 6: duplicate of line 2
        '', // empty line: skipped, not a row
        'Zoé;Bernard;01 23 45 67 89;Paris;extra', // 8: more fields than the header
        'Jean;Morel;0033 1 23 45 67 90;Rennes', // 9: good (international prefix 00)
      ].join('\r\n'),
    );
    const { sink, problems, summary } = await run(file);
    expect(sink.contacts.map((c) => [c.line, c.phone, c.firstName, c.lastName, c.variables])).toEqual([
      [2, '+33612345678', 'Hélène', 'Dupont', { Ville: 'Lyon' }],
      [9, '+33123456790', 'Jean', 'Morel', { Ville: 'Rennes' }],
    ]);
    expect(problems).toEqual([
      { kind: 'rejected', line: 3, reason: 'empty phone number' },
      { kind: 'rejected', line: 4, reason: 'invalid phone number "12345" (region FR)' },
      { kind: 'rejected', line: 5, reason: '1 field, the header has 4: this line seems separated by ",", the header by ";"' },
      { kind: 'duplicate', line: 6, reason: '+33612345678 already imported from line 2' },
      { kind: 'rejected', line: 8, reason: '5 fields, the header has 4' },
    ]);
    expect(summary).toEqual({ encoding: 'utf-8', delimiter: ';', rows: 7, imported: 2, duplicates: 1, rejected: 4 });
  });

  it('reads Windows-1252 (Excel’s French CSV) with its accents', async () => {
    const file = await csv('latin.csv', Buffer.from('Prénom;Nom;Téléphone\r\nHélène;Lefèvre;0612345678\r\nFrançois;Gérard;0712345678\r\n', 'latin1'));
    const { sink, summary } = await run(file);
    expect(summary.encoding).toBe('windows-1252');
    expect(sink.contacts.map((c) => `${c.firstName} ${c.lastName} ${c.phone}`)).toEqual(['Hélène Lefèvre +33612345678', 'François Gérard +33712345678']);
  });

  it('reads UTF-8 with a byte order mark, and a comma- or tab-separated file', async () => {
    const bom = await csv('bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('téléphone,prénom\n0612345678,Élodie\n')]));
    const tab = await csv('tab.csv', 'phone\tfirst name\tlast name\n+32 470 12 34 56\tJan\tPeeters\n');
    const fromBom = await run(bom);
    expect(fromBom.summary).toMatchObject({ encoding: 'utf-8', delimiter: ',', imported: 1 });
    expect(fromBom.sink.contacts[0]).toMatchObject({ phone: '+33612345678', firstName: 'Élodie' });
    const fromTab = await run(tab);
    expect(fromTab.summary).toMatchObject({ delimiter: '\t', imported: 1 });
    expect(fromTab.sink.contacts[0]).toMatchObject({ phone: '+32470123456', firstName: 'Jan', lastName: 'Peeters' });
  });

  it('uses a row’s country for a number written nationally, and rejects a country that is not an ISO code', async () => {
    const file = await csv('countries.csv', 'tel;pays\n0470 12 34 56;BE\n06 12 34 56 78;\n0470 12 34 56;Belgique\n');
    const { sink, problems } = await run(file);
    expect(sink.contacts.map((c) => c.phone)).toEqual(['+32470123456', '+33612345678']);
    expect(problems).toEqual([{ kind: 'rejected', line: 4, reason: 'country "Belgique" is not a two-letter ISO code (FR, BE, CH…)' }]);
  });

  it('reads consent (given or not, date, source) and the customer relationship; a value that is neither yes nor no is rejected', async () => {
    const file = await csv(
      'consent.csv',
      'téléphone;consentement;date consentement;source consentement;client\n0612345678;oui;2026-09-01;formulaire web;non\n0612345679;non;;;oui\n0612345680;peut-être;;;non\n0612345681;1;01/10/2026;salon;\n',
    );
    const { sink, problems } = await run(file);
    expect(sink.contacts.map((c) => [c.line, c.consent, c.customer])).toEqual([
      [2, { given: true, date: '2026-09-01', source: 'formulaire web' }, false],
      [3, { given: false, date: null, source: null }, true],
      [5, { given: true, date: '01/10/2026', source: 'salon' }, false],
    ]);
    expect(problems).toEqual([{ kind: 'rejected', line: 4, reason: 'consent "peut-être" is neither yes nor no (oui/non, yes/no, 1/0)' }]);
  });

  it('without a consent column, consent and relationship are unknown (null), not refused', async () => {
    const { sink } = await run(await csv('plain.csv', 'mobile\n0612345678\n'));
    expect(sink.contacts[0]).toMatchObject({ consent: null, customer: null, variables: {} });
  });

  it('a file it cannot use at all is an error naming the file: no phone column, empty, missing', async () => {
    const noPhone = await csv('nophone.csv', 'nom;ville\nDupont;Lyon\n');
    await expect(importContacts(noPhone, new MemorySink())).rejects.toThrow(ContactFileError);
    await expect(importContacts(noPhone, new MemorySink())).rejects.toThrow(/nophone\.csv: line 1: no phone column among "nom", "ville"/);
    await expect(importContacts(await csv('empty.csv', ''), new MemorySink())).rejects.toThrow(/empty\.csv: empty file/);
    await expect(importContacts(path.join(dir, 'missing.csv'), new MemorySink())).rejects.toThrow(/missing\.csv: cannot read/);
  });

  it('a file that is not valid CSV (a quote never closed) is a ContactFileError naming the file', async () => {
    const broken = await csv('unclosed.csv', 'téléphone;nom\n0612345678;Anne\n0612345679;"Marc\n');

    const failure = importContacts(broken, new MemorySink());

    await expect(failure).rejects.toThrow(ContactFileError);
    await expect(failure).rejects.toThrow(/unclosed\.csv: Quote Not Closed/);
  });

  it('an error of the sink (its database) is not the file’s: it is rethrown as it is, not as a ContactFileError', async () => {
    const file = await csv('sink-fails.csv', 'téléphone\n0612345678\n0612345679\n');
    const databaseDown = Object.assign(new Error('SQLITE_IOERR: disk I/O error'), { code: 'SQLITE_IOERR' });
    const sink: ContactSink = { add: () => Promise.reject(databaseDown) };

    const failure = importContacts(file, sink);

    await expect(failure).rejects.toBe(databaseDown);
    await expect(failure).rejects.not.toBeInstanceOf(ContactFileError);
  });

  it('an error of the problem listener (the report) is rethrown as it is too', async () => {
    const file = await csv('listener-fails.csv', 'téléphone\n123\n');
    const listenerBug = new TypeError('report is not a function');

    const failure = importContacts(file, new MemorySink(), {
      onProblem: () => {
        throw listenerBug;
      },
    });

    await expect(failure).rejects.toBe(listenerBug);
  });

  it('reads a Réunion number written nationally, as a French file writes it, in +262', async () => {
    const { sink, problems } = await run(await csv('reunion.csv', 'téléphone\n0692 12 34 56\n0262 12 34 56\n'));

    expect(problems).toEqual([]);
    expect(sink.contacts.map((c) => c.phone)).toEqual(['+262692123456', '+262262123456']);
  });

  it('streams a large file: 20 000 rows, each imported once, line numbers kept', async () => {
    const lines = ['telephone;ref'];
    for (let i = 0; i < 20_000; i++) lines.push(`06${String(10_000_000 + i).padStart(8, '0')};ref-${i}`);
    const { sink, summary } = await run(await csv('large.csv', lines.join('\n')));
    expect(summary).toMatchObject({ rows: 20_000, imported: 20_000, rejected: 0, duplicates: 0 });
    expect(sink.contacts.at(-1)).toMatchObject({ line: 20_001, phone: '+33610019999', variables: { ref: 'ref-19999' } });
  });
});

describe('detection', () => {
  it('guesses the encoding from the bytes: UTF-8 when valid (even cut mid-character), else Windows-1252', () => {
    expect(detectEncoding(Buffer.from('Hélène'))).toBe('utf-8');
    expect(detectEncoding(Buffer.from('Hélène', 'utf8').subarray(0, 2))).toBe('utf-8');
    expect(detectEncoding(Buffer.from('Hélène', 'latin1'))).toBe('windows-1252');
  });

  it('guesses the delimiter from the header, ignoring quoted ones', () => {
    expect(detectDelimiter('nom;prénom;téléphone')).toBe(';');
    expect(detectDelimiter('"nom, prénom";téléphone')).toBe(';');
    expect(detectDelimiter('a,b,c')).toBe(',');
    expect(detectDelimiter('a\tb')).toBe('\t');
    expect(detectDelimiter('téléphone')).toBe(',');
  });
});

describe('import report', () => {
  it('is written next to the file: one line per problem as found, then the totals', async () => {
    const file = await csv('report.csv', 'téléphone\n0612345678\n123\n06 12 34 56 78\n');
    const report = createImportReport(file);
    const summary = await importContacts(file, new MemorySink(), { onProblem: report.onProblem });
    await report.finish(summary);
    expect(report.path).toBe(importReportPath(file));
    expect(await readFile(report.path, 'utf8')).toBe(
      [
        `Import of ${file}`,
        'line 3: rejected: invalid phone number "123" (region FR)',
        'line 4: duplicate: +33612345678 already imported from line 2',
        '',
        '3 rows read (utf-8, delimiter ,): 1 imported, 1 duplicates, 1 rejected',
        '',
      ].join('\n'),
    );
  });
});

describe('normalisePhoneNumber', () => {
  it('reads a French number written nationally, and gives E.164', () => {
    expect(normalisePhoneNumber('0612345678')).toEqual({ ok: true, e164: '+33612345678' });
    expect(normalisePhoneNumber('01 23 45 67 89')).toEqual({ ok: true, e164: '+33123456789' });
    // Excel drops the leading 0 of a number it takes for an integer.
    expect(normalisePhoneNumber('612345678')).toEqual({ ok: true, e164: '+33612345678' });
  });

  it('reads international forms: E.164, spaced, and the 00 prefix', () => {
    expect(normalisePhoneNumber('+33612345678')).toEqual({ ok: true, e164: '+33612345678' });
    expect(normalisePhoneNumber('+33 6 12 34 56 78')).toEqual({ ok: true, e164: '+33612345678' });
    expect(normalisePhoneNumber('0033 1 23 45 67 89')).toEqual({ ok: true, e164: '+33123456789' });
    expect(normalisePhoneNumber('+32 470 12 34 56')).toEqual({ ok: true, e164: '+32470123456' });
  });

  it('ignores spaces, dots, dashes and edge blanks', () => {
    for (const written of ['06 12 34 56 78', '06.12.34.56.78', '06-12-34-56-78', '  0612345678 ', '(0)6 12 34 56 78']) {
      expect(normalisePhoneNumber(written), written).toEqual({ ok: true, e164: '+33612345678' });
    }
  });

  it('reads a number written nationally in the region given (a row’s country)', () => {
    expect(normalisePhoneNumber('0470 12 34 56', 'BE')).toEqual({ ok: true, e164: '+32470123456' });
    expect(normalisePhoneNumber('079 123 45 67', 'CH')).toEqual({ ok: true, e164: '+41791234567' });
    // Without a region, the same digits are a French number.
    expect(normalisePhoneNumber('0470 12 34 56')).toEqual({ ok: true, e164: '+33470123456' });
  });

  it('reads a Réunion number in +262: written internationally, or nationally as in France (0692…, 0262…)', () => {
    expect(normalisePhoneNumber('+262 692 12 34 56')).toEqual({ ok: true, e164: '+262692123456' });
    expect(normalisePhoneNumber('0692 12 34 56')).toEqual({ ok: true, e164: '+262692123456' });
    expect(normalisePhoneNumber('0262 12 34 56')).toEqual({ ok: true, e164: '+262262123456' });
    expect(normalisePhoneNumber('0692 12 34 56', 'RE')).toEqual({ ok: true, e164: '+262692123456' });
    // The other overseas departments of the French plan too (Guadeloupe, Martinique), and metropolitan numbers stay +33.
    expect(normalisePhoneNumber('0690 12 34 56')).toEqual({ ok: true, e164: '+590690123456' });
    expect(normalisePhoneNumber('0696 12 34 56')).toEqual({ ok: true, e164: '+596696123456' });
    expect(normalisePhoneNumber('0699 12 34 56')).toEqual({ ok: true, e164: '+33699123456' });
  });

  it('rejects with a reason naming the number: invalid, too short, too long, not a number, empty, unknown region', () => {
    // The right length, but the national 0 is not written after +33.
    expect(normalisePhoneNumber('+33 0 12 34 56 78')).toEqual({ ok: false, rejection: 'invalid', message: 'invalid phone number "+33 0 12 34 56 78" (region FR)' });
    expect(normalisePhoneNumber('12345')).toEqual({ ok: false, rejection: 'too-short', message: 'invalid phone number "12345" (region FR)' });
    expect(normalisePhoneNumber('06 12 34')).toEqual({ ok: false, rejection: 'too-short', message: 'invalid phone number "06 12 34" (region FR)' });
    expect(normalisePhoneNumber('06 12 34 56 78 90 12 34')).toEqual({ ok: false, rejection: 'too-long', message: 'invalid phone number "06 12 34 56 78 90 12 34" (region FR)' });
    expect(normalisePhoneNumber('numéro')).toEqual({ ok: false, rejection: 'not-a-number', message: '"numéro" is not a phone number' });
    expect(normalisePhoneNumber('  ')).toEqual({ ok: false, rejection: 'empty', message: 'empty phone number' });
    expect(normalisePhoneNumber('0470 12 34 56', 'ZZ')).toEqual({
      ok: false,
      rejection: 'unknown-region',
      message: 'phone number "0470 12 34 56": unknown region "ZZ" (a two-letter ISO code such as FR, BE, CH)',
    });
  });
});
