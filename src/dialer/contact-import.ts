/**
 * Contacts of a campaign from a CSV file, streamed (csv-parse): rows go to
 * a sink one by one, so a file of a million rows never sits in memory.
 *
 * What a spreadsheet exported in France looks like is guessed, not asked:
 * - encoding: UTF-8 (with or without a byte order mark) when the start of
 *   the file is valid UTF-8, else Windows-1252 (Excel's "CSV (séparateur:
 *   point-virgule)", Latin-1 accents included);
 * - delimiter: whichever of `;` `,` and tab appears most in the header line
 *   outside quotes (`;` wins a tie: it is Excel's in French);
 * - columns, by header name, accents and case ignored: the phone number
 *   (téléphone, tel, mobile, portable, numéro, phone…), first and last
 *   name, an optional country (ISO code: FR, BE…) for numbers written
 *   nationally, consent (given or not, date, source) and the customer
 *   relationship; every other column is kept as a variable for prompts.
 *
 * Numbers are normalised to E.164 by phone-number.ts, default region FR.
 * Nothing is dropped silently: a row that cannot be used (no phone,
 * an invalid number, an unknown country, a consent value that means
 * neither yes nor no, a row with more fields than the header) is rejected
 * with its line number and the reason; a number already imported is
 * reported as a duplicate of the line that brought it first. The sink
 * decides what a duplicate is (the campaign store: one contact per number
 * and campaign), so this module keeps no per-row state either.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import type { CountryCode } from 'libphonenumber-js';
import { DEFAULT_PHONE_REGION, normalisePhoneNumber } from './phone-number.js';

export type CsvEncoding = 'utf-8' | 'windows-1252';
export type CsvDelimiter = ';' | ',' | '\t';

/** What the caller said about consent (loi n° 2025-594): null when the file has no consent column. */
export interface ContactConsent {
  readonly given: boolean;
  /** As written in the file (ISO date or JJ/MM/AAAA), or null. */
  readonly date: string | null;
  readonly source: string | null;
}

export interface ImportedContact {
  /** Line of the CSV file (the header is line 1). */
  readonly line: number;
  /** E.164, e.g. +33612345678. */
  readonly phone: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly consent: ContactConsent | null;
  /** A contract in force with this contact (customer relationship); null when the file does not say. */
  readonly customer: boolean | null;
  /** Every other column, by its header as written. */
  readonly variables: Readonly<Record<string, string>>;
}

/** Where accepted contacts go: 'added', or the line of the contact that already has this number. */
export interface ContactSink {
  add(contact: ImportedContact): Promise<'added' | { readonly duplicateOfLine: number }>;
}

export interface ImportProblem {
  readonly line: number;
  readonly reason: string;
}

export interface ImportSummary {
  readonly encoding: CsvEncoding;
  readonly delimiter: CsvDelimiter;
  /** Data rows read (the header and empty lines not counted). */
  readonly rows: number;
  readonly imported: number;
  readonly duplicates: number;
  readonly rejected: number;
}

/** Told each problem as it is found (the report is written from this, so problems are not kept in memory). */
export type ProblemListener = (problem: ImportProblem & { readonly kind: 'rejected' | 'duplicate' }) => void;

/**
 * The file itself cannot be imported: unreadable, empty, no phone column,
 * not valid CSV. What the person importing it can fix; any other failure
 * (the sink's database, a bug) is not one of these.
 */
export class ContactFileError extends Error {
  override readonly name = 'ContactFileError';
}

export interface ImportOptions {
  /** Region for numbers written nationally, when a row has no country; default FR. */
  readonly defaultCountry?: CountryCode;
  readonly onProblem?: ProblemListener;
}

/** Bytes read to guess the encoding and the delimiter. */
const SNIFF_BYTES = 64 * 1024;

const COLUMN_ALIASES: Readonly<Record<Exclude<ColumnRole, 'variable'>, readonly string[]>> = {
  phone: ['telephone', 'tel', 'phone', 'phonenumber', 'mobile', 'portable', 'gsm', 'numero', 'numerodetelephone', 'number'],
  firstName: ['prenom', 'firstname', 'first', 'givenname'],
  lastName: ['nom', 'nomdefamille', 'lastname', 'last', 'surname', 'familyname'],
  country: ['pays', 'country', 'countrycode', 'codepays'],
  consent: ['consentement', 'consent', 'optin', 'accord'],
  consentDate: ['dateconsentement', 'dateduconsentement', 'consentdate', 'optindate'],
  consentSource: ['sourceconsentement', 'sourceduconsentement', 'consentsource', 'optinsource'],
  customer: ['client', 'customer', 'relation', 'relationclient', 'contrat', 'contratencours'],
};

type ColumnRole = 'phone' | 'firstName' | 'lastName' | 'country' | 'consent' | 'consentDate' | 'consentSource' | 'customer' | 'variable';

const OTHER_DELIMITERS: Readonly<Record<CsvDelimiter, readonly string[]>> = { ';': [',', '\t'], ',': [';', '\t'], '\t': [';', ','] };

const YES = new Set(['oui', 'o', 'yes', 'y', 'true', 'vrai', '1', 'x']);
const NO = new Set(['non', 'n', 'no', 'false', 'faux', '0', '']);

/** A header name without accents, case, spaces or punctuation: "Téléphone mobile" → "telephonemobile". */
function headerKey(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

function roleOf(header: string): ColumnRole {
  const key = headerKey(header);
  for (const [role, aliases] of Object.entries(COLUMN_ALIASES) as Array<[Exclude<ColumnRole, 'variable'>, readonly string[]]>) {
    if (aliases.includes(key)) return role;
  }
  return 'variable';
}

/** UTF-8 when `head` decodes as UTF-8 (a character cut at the end of the sample is fine), else Windows-1252. */
export function detectEncoding(head: Uint8Array): CsvEncoding {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

/** The delimiter used most in `headerLine` outside double quotes; `;` on a tie, `,` when there is none (one column). */
export function detectDelimiter(headerLine: string): CsvDelimiter {
  const counts: Record<CsvDelimiter, number> = { ';': 0, ',': 0, '\t': 0 };
  let quoted = false;
  for (const c of headerLine) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ';' || c === ',' || c === '\t')) counts[c]++;
  }
  const best = (Object.keys(counts) as CsvDelimiter[]).reduce((a, b) => (counts[b] > counts[a] ? b : a), ';');
  return counts[best] === 0 ? ',' : best;
}

/** Decodes a byte stream in `encoding` into text, dropping a UTF-8 byte order mark. */
class TextDecoding extends Transform {
  private readonly decoder: InstanceType<typeof TextDecoder>;

  constructor(encoding: CsvEncoding) {
    super({ decodeStrings: true, readableObjectMode: false });
    this.decoder = new TextDecoder(encoding, { ignoreBOM: false });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(null, this.decoder.decode(chunk, { stream: true }));
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.decoder.decode());
  }
}

async function sniff(file: string): Promise<{ encoding: CsvEncoding; delimiter: CsvDelimiter }> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    const head = buffer.subarray(0, bytesRead);
    const encoding = detectEncoding(head);
    const text = new TextDecoder(encoding).decode(head);
    const headerLine = text.split(/\r?\n/, 1)[0] ?? '';
    return { encoding, delimiter: detectDelimiter(headerLine) };
  } finally {
    await handle.close();
  }
}

function yesNo(value: string): boolean | null {
  const key = headerKey(value);
  if (YES.has(key)) return true;
  if (NO.has(key)) return false;
  return null;
}

/**
 * Reads `file` and gives every usable row to `sink`; problems go to
 * `options.onProblem` as they are found. Rejects with a ContactFileError
 * only when the file as a whole cannot be used: missing or unreadable,
 * empty, without a phone column, or not valid CSV (a quote never closed).
 * An error of the sink or of `onProblem` is rethrown as it is: it says
 * nothing about the file.
 */
export async function importContacts(file: string, sink: ContactSink, options: ImportOptions = {}): Promise<ImportSummary> {
  let format: { encoding: CsvEncoding; delimiter: CsvDelimiter };
  try {
    format = await sniff(file);
  } catch (err) {
    throw new ContactFileError(`${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  const defaultCountry = options.defaultCountry ?? DEFAULT_PHONE_REGION;
  const report = options.onProblem ?? (() => undefined);
  let roles: ColumnRole[] | null = null;
  let headers: string[] = [];
  let rows = 0;
  let imported = 0;
  let duplicates = 0;
  let rejected = 0;
  const reject = (line: number, reason: string): void => {
    rejected++;
    report({ kind: 'rejected', line, reason });
  };

  const handleRow = async (fields: string[], line: number): Promise<void> => {
    if (roles === null) {
      headers = fields.map((f) => f.trim());
      roles = headers.map(roleOf);
      if (!roles.includes('phone')) {
        throw new ContactFileError(`${file}: line 1: no phone column among ${headers.map((h) => JSON.stringify(h)).join(', ')} (expected a header such as "téléphone" or "phone"; delimiter found: ${JSON.stringify(format.delimiter)})`);
      }
      return;
    }
    if (fields.every((f) => f.trim() === '')) return;
    rows++;
    if (fields.length > headers.length) {
      reject(line, `${fields.length} fields, the header has ${headers.length}`);
      return;
    }
    const other = fields.length === 1 && headers.length > 1 ? OTHER_DELIMITERS[format.delimiter].find((d) => (fields[0] ?? '').includes(d)) : undefined;
    if (other !== undefined) {
      reject(line, `1 field, the header has ${headers.length}: this line seems separated by ${JSON.stringify(other)}, the header by ${JSON.stringify(format.delimiter)}`);
      return;
    }
    const value = (role: ColumnRole): string => {
      const i = roles?.indexOf(role) ?? -1;
      return i < 0 ? '' : (fields[i] ?? '').trim();
    };
    const rawPhone = value('phone');
    const rawCountry = value('country').toUpperCase();
    if (rawPhone !== '' && rawCountry !== '' && !/^[A-Z]{2}$/.test(rawCountry)) {
      reject(line, `country ${JSON.stringify(value('country'))} is not a two-letter ISO code (FR, BE, CH…)`);
      return;
    }
    const phone = normalisePhoneNumber(rawPhone, rawCountry === '' ? defaultCountry : rawCountry);
    if (!phone.ok) {
      reject(line, phone.message);
      return;
    }
    let consent: ContactConsent | null = null;
    if (roles.includes('consent')) {
      const given = yesNo(value('consent'));
      if (given === null) {
        reject(line, `consent ${JSON.stringify(value('consent'))} is neither yes nor no (oui/non, yes/no, 1/0)`);
        return;
      }
      consent = { given, date: value('consentDate') || null, source: value('consentSource') || null };
    }
    let customer: boolean | null = null;
    if (roles.includes('customer')) {
      customer = yesNo(value('customer'));
      if (customer === null) {
        reject(line, `customer relationship ${JSON.stringify(value('customer'))} is neither yes nor no`);
        return;
      }
    }
    const variables: Record<string, string> = {};
    roles.forEach((role, i) => {
      if (role === 'variable') variables[headers[i] ?? `column ${i + 1}`] = (fields[i] ?? '').trim();
    });
    const outcome = await sink.add({
      line,
      phone: phone.e164,
      firstName: value('firstName') || null,
      lastName: value('lastName') || null,
      consent,
      customer,
      variables,
    });
    if (outcome === 'added') {
      imported++;
      return;
    }
    duplicates++;
    report({ kind: 'duplicate', line, reason: `${phone.e164} already imported from line ${outcome.duplicateOfLine}` });
  };

  const parser = parse({ delimiter: format.delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, info: true });
  // What failed while a row was handled, other than the file: the sink (a database error) or the listener. The pipeline
  // rejects with it; it goes to the caller as it is, where the reading or the parsing of the file becomes a ContactFileError.
  let rowFailure: Error | null = null;
  const rowsOut = new Writable({
    objectMode: true,
    write(record: { record: string[]; info: { lines: number } }, _encoding, callback) {
      handleRow(record.record, record.info.lines).then(
        () => callback(),
        (error: unknown) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          if (!(failure instanceof ContactFileError)) rowFailure = failure;
          callback(failure);
        },
      );
    },
  });
  try {
    await pipeline(createReadStream(file), new TextDecoding(format.encoding), parser, rowsOut);
  } catch (err) {
    if (err instanceof ContactFileError) throw err;
    if (rowFailure !== null) throw rowFailure;
    throw new ContactFileError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (roles === null) throw new ContactFileError(`${file}: empty file (no header line)`);
  return { ...format, rows, imported, duplicates, rejected };
}
