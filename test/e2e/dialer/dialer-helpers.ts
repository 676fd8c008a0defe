/**
 * What the dialer cases share: voix with a test trunk to the callee
 * simulator (SIPp, callee-simulator.ts), a campaign in its configuration,
 * contacts in a CSV file, and the operator's commands (`voix campaign …`,
 * `voix dnc …`) to import, start and read the results back.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { getFreePort, makeTempDir, startVoix, type VoixServer } from '../harness/index.js';
import { startCalleeSimulator, type CalleeSimulator } from './callee-simulator.js';

export const TRUNK = 'reseau';
/** Tuesday 1 December 2026, 10:30 in Paris: inside the legal calling hours. */
export const TUESDAY_MORNING = '2026-12-01T10:30:00+01:00';

export interface DialerLab {
  readonly voix: VoixServer;
  readonly simulator: CalleeSimulator;
  readonly dir: string;
  /** Base URL of voix's administration API (http://127.0.0.1:port). */
  readonly adminUrl: string;
}

export interface DialerLabOptions {
  /** The campaigns: section (each gets trunk and a message unless given). */
  readonly campaigns: ReadonlyArray<Record<string, unknown>>;
  /** VOIX_CALENDAR_START; null: the real calendar. Default TUESDAY_MORNING. */
  readonly calendarStart?: string | null;
  /** Other sections of the configuration (menus…). */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** A spoken message of about four seconds, naming the contact. */
export const MESSAGE = { text: 'Bonjour {prenom}, ceci est un message de la campagne de test de voix. Merci de votre attention.' };

export async function startDialerLab(options: DialerLabOptions): Promise<DialerLab> {
  const simulator = await startCalleeSimulator();
  const calendarStart = options.calendarStart === undefined ? TUESDAY_MORNING : options.calendarStart;
  const adminPort = await getFreePort('127.0.0.1');
  const voix = await startVoix({
    config: {
      ...options.config,
      admin: { listen: { address: '127.0.0.1', port: adminPort } },
      trunks: [{ name: TRUNK, host: '127.0.0.1', port: simulator.port, transport: 'udp', username: 'voix', password: 'secret-du-reseau', register: false, calls_per_second: 20, max_calls: 50 }],
      campaigns: options.campaigns.map((c) => ({ trunk: TRUNK, message: MESSAGE, ...c })),
    },
    ...(calendarStart !== null ? { env: { VOIX_CALENDAR_START: calendarStart } } : {}),
  });
  return { voix, simulator, dir: await makeTempDir('dialer'), adminUrl: `http://127.0.0.1:${adminPort}` };
}

export interface CsvContact {
  readonly phone: string;
  readonly firstName?: string;
  readonly consent?: 'oui' | 'non';
}

/** A contacts file as an operator exports it from a spreadsheet: `;`, French headers. */
export async function writeContacts(lab: DialerLab, name: string, contacts: readonly CsvContact[]): Promise<string> {
  const file = join(lab.dir, name);
  const lines = ['telephone;prenom;consentement', ...contacts.map((c) => `${c.phone};${c.firstName ?? 'Camille'};${c.consent ?? ''}`)];
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** Runs a voix command and expects it to succeed; returns its standard output. */
export async function voixCli(voix: VoixServer, args: readonly string[]): Promise<string> {
  const run = await voix.cli(args);
  expect(run.code, `voix ${args.join(' ')}\n${run.stdout}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

export interface ExportedAttempt {
  readonly outcome: string | null;
  readonly startedAt: string | number;
  readonly endedAt: string | number | null;
  readonly sipStatus: number | null;
}

export interface ExportedContact {
  readonly phone: string;
  readonly result: string | null;
  readonly waitingReason: string | null;
  readonly nextAttemptAt: string | number | null;
  readonly attempts: readonly ExportedAttempt[];
}

/** `voix campaign export NAME --format json`, by phone number. */
export async function exportCampaign(voix: VoixServer, name: string): Promise<Map<string, ExportedContact>> {
  const json = JSON.parse(await voixCli(voix, ['campaign', 'export', name, '--format', 'json'])) as { contacts: ExportedContact[] } | ExportedContact[];
  const contacts = Array.isArray(json) ? json : json.contacts;
  return new Map(contacts.map((c) => [c.phone, c]));
}

export const ms = (t: string | number): number => (typeof t === 'number' ? t : Date.parse(t));

/** Waits for the dialer's "campaign completed" line. */
export async function waitForCompleted(voix: VoixServer, name: string, timeoutMs: number, since = 0): Promise<void> {
  await voix.waitForLog((l) => l.msg === 'campaign completed' && l['campaign'] === name, timeoutMs, since);
}
