/**
 * `voix campaign …` and `voix dnc …` called as functions, on a real SQLite
 * database in a temporary data directory, with a small configuration file
 * beside it; what they print is captured by a fake CommandIo whose clock
 * the test moves.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TRANSITIONS,
  campaign,
  csvField,
  dnc,
  progressBar,
  type CommandIo,
  type StateAction,
} from '../../../src/cli/campaign-commands.js';
import { UserError } from '../../../src/cli/output.js';
import { CampaignStore, type CampaignState } from '../../../src/dialer/campaign-store.js';
import { databasePath, openDatabase, type Db } from '../../../src/store/database.js';
import { RuntimeStateStore } from '../../../src/store/runtime-state-store.js';

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);

class FakeIo implements CommandIo {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  raw = '';
  interactive = false;
  time = T0;
  running = false;
  /** Called at each sleep of --watch, after the clock moved. */
  onSleep: (() => void) | null = null;
  interrupt: (() => void) | null = null;

  out(line = ''): void {
    this.stdout.push(line);
  }
  err(line: string): void {
    this.stderr.push(line);
  }
  write(text: string): Promise<void> {
    this.raw += text;
    return Promise.resolve();
  }
  now(): number {
    return this.time;
  }
  sleep(ms: number): Promise<void> {
    this.time += ms;
    this.onSleep?.();
    return Promise.resolve();
  }
  onInterrupt(handler: () => void): () => void {
    this.interrupt = handler;
    return () => (this.interrupt = null);
  }
  readonly probe = { exists: () => this.running, startTime: () => 'start-1' };
}

let dir: string;
let configPath: string;
let io: FakeIo;
const dbs: Db[] = [];

const CONFIG = `server:
  domain: voix.test
  data_dir: ./data
users:
  - extension: "1001"
    password: "correct-horse-battery"
trunks:
  - name: operator
    host: sip.operator.example
    transport: udp
    username: "0123456789"
    password: "provider-secret"
    register: false
campaigns:
  - name: relance
    purpose: customer
    trunk: operator
    message: { text: "Bonjour {prenom}" }
  - name: printemps
    purpose: prospecting
    trunk: operator
    message: { text: "Bonjour" }
`;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'voix-campaign-cli-'));
  configPath = path.join(dir, 'voix.yaml');
  writeFileSync(configPath, CONFIG);
  io = new FakeIo();
});

afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** The campaign store on the data directory, as the server would see it. */
function store(): CampaignStore {
  const db = openDatabase(path.join(dir, 'data'));
  dbs.push(db);
  return new CampaignStore(db);
}

const run = (...words: string[]) => campaign(configPath, words, io);
const runDnc = (...words: string[]) => dnc(configPath, words, io);

const CONTACTS = ['Prénom;Nom;Téléphone', 'Hélène;Dupont;06 12 34 56 78', 'Marc;Martin;', 'Anne;Leroy;12345', 'Léa;Petit;07 12 34 56 78'].join('\n');

describe('voix campaign import', () => {
  it('creates the campaign on the first import with the purpose of the configuration, and reports each bad row with its line', async () => {
    const csv = file('contacts.csv', CONTACTS);

    const code = await run('import', 'relance', csv);

    expect(code).toBe(0);
    expect(io.stderr).toEqual([`${csv}:3: empty phone number`, `${csv}:4: invalid phone number "12345" (region FR)`]);
    expect(io.stdout).toEqual([
      `campaign relance: imported ${csv} (utf-8, delimiter ";")`,
      '  rows read   4',
      '  added       2',
      '  duplicates  0',
      '  rejected    2',
      `  report      ${csv}.import-report.txt`,
      'campaign relance has 2 contact(s), state created: voix campaign start relance calls them',
    ]);
    expect(readFileSync(`${csv}.import-report.txt`, 'utf8')).toContain('line 4: rejected: invalid phone number "12345" (region FR)');
    expect(store().campaign('relance')).toMatchObject({ name: 'relance', purpose: 'customer', state: 'created', createdAt: T0 });
  });

  it('create puts a configured campaign in the database without contacts; a second create, or an unknown name, is refused', async () => {
    expect(await run('create', 'relance')).toBe(0);
    expect(io.stdout).toEqual(['campaign relance created (customer, trunk operator): voix campaign import relance FILE.csv adds its contacts']);
    expect(store().campaign('relance')).toMatchObject({ name: 'relance', purpose: 'customer', state: 'created' });
    await expect(run('create', 'relance')).rejects.toThrow('campaign relance already exists (state created, 0 contact(s))');
    await expect(run('create', 'inconnue')).rejects.toThrow(/inconnue/);
  });

  it('a second import adds the new numbers and reports the known ones as duplicates', async () => {
    await run('import', 'relance', file('first.csv', CONTACTS));
    const second = file('second.csv', ['téléphone;prénom', '+33 6 12 34 56 78;Hélène', '0612345670;Paul'].join('\n'));
    io = new FakeIo();

    const code = await campaign(configPath, ['import', 'relance', second, '--json'], io);

    expect(code).toBe(0);
    expect(JSON.parse(io.stdout.join('\n'))).toMatchObject({ campaign: 'relance', rows: 2, added: 1, duplicates: 1, rejected: 0, contacts: 3, state: 'created' });
    expect(readFileSync(`${second}.import-report.txt`, 'utf8')).toContain('line 2: duplicate: +33612345678 already imported from line 2');
  });

  it('commits every contact of a large file (imports are written in batches)', async () => {
    const rows = Array.from({ length: 250 }, (_, i) => `06${String(10_000_000 + i)}`);
    await run('import', 'relance', file('big.csv', ['téléphone', ...rows].join('\n')));

    const s = store();
    expect(s.contactCount(s.campaign('relance')?.id ?? 0)).toBe(250);
  });

  it('a file broken part way: a user error that says the contacts before the error were added', async () => {
    const broken = file('broken.csv', ['téléphone;nom', '0612345678;Anne', '0612345679;"Marc', '0612345670;Léa'].join('\n'));

    await expect(run('import', 'relance', broken)).rejects.toThrow(/Quote Not Closed[^]*\n1 contact\(s\) from the lines before the error were added to campaign relance/);
    const s = store();
    expect(s.contactCount(s.campaign('relance')?.id ?? 0)).toBe(1);
  });

  it('a file broken after a rejected row: the report keeps the row and ends with why the import stopped', async () => {
    const broken = file('broken.csv', ['téléphone;nom', '0612345678;Anne', '12345;Paul', '0612345679;"Marc', '0612345670;Léa'].join('\n'));

    const failure = await run('import', 'relance', broken).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(UserError);
    expect((failure as Error).message).toMatch(new RegExp(`\\nthe rows rejected before the error are in ${broken}\\.import-report\\.txt$`));
    const report = readFileSync(`${broken}.import-report.txt`, 'utf8');
    expect(report).toContain('line 3: rejected: invalid phone number "12345" (region FR)');
    expect(report).toMatch(/\nimport stopped: .*broken\.csv: Quote Not Closed[^]*\n$/);
    expect(report).not.toMatch(/rows read|rows rejected before the error/);
  });

  it('a database failure during the import is not the file’s fault: it goes up as an internal error, the batch is undone, the report says why', async () => {
    const db = openDatabase(path.join(dir, 'data'));
    dbs.push(db);
    const s = new CampaignStore(db);
    s.createCampaign('relance', 'customer', T0);
    db.exec(`CREATE TRIGGER disk_on_fire BEFORE INSERT ON campaign_contacts WHEN NEW.phone = '+33612345679' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    const csv = file('contacts.csv', ['téléphone', '0612345678', '12345', '0612345679', '0612345670'].join('\n'));

    const failure = await run('import', 'relance', csv).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(UserError);
    expect((failure as Error).message).toBe('disk on fire');
    const campaignId = s.campaign('relance')?.id ?? 0;
    expect(s.contactCount(campaignId)).toBe(0);
    expect(readFileSync(`${csv}.import-report.txt`, 'utf8')).toMatch(/line 3: rejected: .*\n\nimport stopped: internal error: disk on fire\n$/);
  });

  it('a report that cannot be written is a user error naming it, before anything is imported', async () => {
    const csv = file('contacts.csv', CONTACTS);
    // A directory where the report should be: unwritable even for root.
    mkdirSync(`${csv}.import-report.txt`);

    await expect(run('import', 'relance', csv)).rejects.toThrow(new UserError(`cannot write the import report ${csv}.import-report.txt: EISDIR: illegal operation on a directory, open '${csv}.import-report.txt'`));
    expect(existsSync(databasePath(path.join(dir, 'data')))).toBe(false);
  });

  it('refuses a campaign that is not in the configuration, naming the known ones', async () => {
    await expect(run('import', 'soldes', file('c.csv', CONTACTS))).rejects.toThrow(new UserError(`no campaign named "soldes" in ${configPath} (its campaigns: relance, printemps)`));
  });

  it('a file that cannot be read is a user error, and no campaign is created for it', async () => {
    await expect(run('import', 'relance', path.join(dir, 'missing.csv'))).rejects.toThrow(/^cannot read .*missing\.csv: ENOENT/);
    const noPhone = file('names.csv', 'prénom;nom\nAnne;Leroy\n');
    await expect(run('import', 'relance', noPhone)).rejects.toThrow(/line 1: no phone column/);
    expect(store().campaign('relance')).toBeNull();
  });
});

describe('voix campaign list', () => {
  it('lists the configured campaigns, imported or not, with their progress', async () => {
    await run('import', 'relance', file('contacts.csv', CONTACTS));
    store().createCampaign('ancienne', 'customer', T0);
    io = new FakeIo();

    await run('list');

    expect(io.stdout).toEqual([
      'NAME       PURPOSE      STATE                               CONTACTS  DONE  IN FLIGHT',
      'relance    customer     created                             2         0     0',
      'printemps  prospecting  not imported                        0         0     0',
      'ancienne   customer     created (not in the configuration)  0         0     0',
      '3 campaign(s)',
    ]);
  });
});

describe('voix campaign start|pause|resume|stop', () => {
  const STATES: readonly CampaignState[] = ['created', 'running', 'paused', 'stopped', 'completed'];
  const ACTIONS: readonly StateAction[] = ['start', 'pause', 'resume', 'stop'];

  it('follows the transition table: allowed moves set the state, refused ones say the current state', async () => {
    await run('import', 'relance', file('contacts.csv', CONTACTS));
    const s = store();
    const id = s.campaign('relance')?.id ?? 0;
    const allowed: string[] = [];
    for (const from of STATES) {
      for (const action of ACTIONS) {
        s.setCampaignState(id, from, T0);
        io = new FakeIo();
        const outcome = await run(action, 'relance').then(
          () => 'ok',
          (e: unknown) => (e as Error).message,
        );
        if (outcome === 'ok') {
          allowed.push(`${from} -${action}-> ${s.campaign('relance')?.state}`);
        } else {
          expect(outcome).toMatch(new RegExp(`^cannot ${action} campaign relance: it is ${from}`));
          expect(s.campaign('relance')?.state).toBe(from);
        }
      }
    }
    expect(allowed).toEqual([
      'created -start-> running',
      'running -pause-> paused',
      'running -stop-> stopped',
      'paused -start-> running',
      'paused -resume-> running',
      'paused -stop-> stopped',
      'stopped -start-> running',
      'completed -start-> running',
    ]);
    expect(Object.keys(TRANSITIONS)).toEqual(ACTIONS);
  });

  it('says what the server will do, and warns on stderr when voix is not running (the state is still recorded)', async () => {
    await run('import', 'relance', file('contacts.csv', CONTACTS));
    io = new FakeIo();

    await run('start', 'relance');

    expect(io.stdout).toEqual(['campaign relance: running (the dialer picks it up within a second)']);
    expect(io.stderr).toEqual(['warning: voix is not running: it has not run with this data directory yet: the new state is recorded and applies when voix starts']);
    expect(store().campaign('relance')?.state).toBe('running');
  });

  it('warns when the running voix reads another configuration file', async () => {
    await run('import', 'relance', file('contacts.csv', CONTACTS));
    const db = openDatabase(path.join(dir, 'data'));
    dbs.push(db);
    new RuntimeStateStore(db).recordStart({ pid: 4242, processStart: 'start-1', version: '0.1.0', startedAt: T0, configFile: '/etc/voix/voix.yaml', generation: 1 });
    io = new FakeIo();
    io.running = true;

    await run('start', 'relance');

    expect(io.stderr).toEqual([`warning: voix (pid 4242) runs with /etc/voix/voix.yaml, not ${configPath}: it dials campaign relance only if that file defines it`]);
  });

  it('refuses to start or resume a campaign the configuration no longer defines, but lets it be paused and stopped', async () => {
    const s = store();
    const old = s.createCampaign('ancienne', 'customer', T0);
    s.setCampaignState(old.id, 'running', T0);

    await expect(run('start', 'ancienne')).rejects.toThrow(`cannot start campaign ancienne: it is not in ${configPath}, so voix would not dial it (its campaigns: relance, printemps)`);
    await expect(run('pause', 'ancienne')).resolves.toBe(0);
    await expect(run('resume', 'ancienne')).rejects.toThrow(/not in .*voix would not dial it/);
    await expect(run('stop', 'ancienne')).resolves.toBe(0);
    expect(s.campaign('ancienne')?.state).toBe('stopped');
  });

  it('a campaign never imported cannot be started; a completed one with nothing left to call is started with a warning', async () => {
    await expect(run('start', 'printemps')).rejects.toThrow('campaign printemps has no contacts yet: voix campaign import printemps FILE.csv');
    await run('import', 'relance', file('contacts.csv', 'téléphone\n0612345678\n'));
    const s = store();
    const id = s.campaign('relance')?.id ?? 0;
    s.close(s.contactId(id, '+33612345678') ?? 0, 'answered', null, T0);
    s.setCampaignState(id, 'completed', T0);
    io = new FakeIo();

    await run('start', 'relance');

    expect(io.stderr).toContain('warning: campaign relance has no contact left to call: the dialer marks it completed again (import new contacts first)');
  });
});

/** relance with 4 contacts: one answered, one busy and waiting for a retry, one in a call now, one never tried. */
async function campaignUnderWay(): Promise<{ s: CampaignStore; id: number }> {
  await run('import', 'relance', file('contacts.csv', ['téléphone;prénom;nom', '0612345671;Anne;Leroy', '0612345672;Marc;"Martin; fils"', '0612345673;Léa;Petit', '0612345674;Paul;Durand'].join('\n')));
  const s = store();
  const id = s.campaign('relance')?.id ?? 0;
  s.setCampaignState(id, 'running', T0);
  const contact = (phone: string) => s.contactId(id, phone) ?? 0;
  const a1 = s.beginAttempt(contact('+33612345671'), T0, 'call-1');
  s.finishAttempt(a1.id, { outcome: 'answered', at: T0 + 30_000, sipStatus: 200, detail: null });
  s.close(contact('+33612345671'), 'answered', null, T0 + 30_000);
  const a2 = s.beginAttempt(contact('+33612345672'), T0, 'call-2');
  s.finishAttempt(a2.id, { outcome: 'busy', at: T0 + 5000, sipStatus: 486, detail: 'Busy Here' });
  s.schedule(contact('+33612345672'), T0 + 15 * 60_000, 'retry');
  s.beginAttempt(contact('+33612345673'), T0 + 60_000, 'call-3');
  return { s, id };
}

describe('voix campaign status', () => {
  it('--json: one object with the numbers of store.progress()', async () => {
    await campaignUnderWay();
    io = new FakeIo();
    io.time = T0 + 2 * 60_000;

    await run('status', 'relance', '--json');

    expect(JSON.parse(io.stdout.join('\n'))).toEqual({
      campaign: 'relance',
      purpose: 'customer',
      state: 'running',
      configured: true,
      contacts: 4,
      done: 1,
      percent: 25,
      results: { answered: 1 },
      waiting: { due: 2, retry: 1 },
      inFlight: 1,
      attempts: 3,
      // Paul was never tried: due now.
      nextAttemptAt: new Date(T0 + 2 * 60_000).toISOString(),
    });
  });

  it('text: a progress bar and the breakdowns', async () => {
    await campaignUnderWay();
    io = new FakeIo();

    await run('status', 'relance');

    expect(io.stdout.slice(0, 4)).toEqual(['campaign relance (customer): running', '[#####...............] 25% (1/4)', '  done          1  answered 1', '  waiting       3  due 2, retry 1']);
    expect(io.stderr).toEqual(['warning: voix is not running: it has not run with this data directory yet: nothing is dialled until it starts']);
  });

  it('--watch redraws every second with the rate and ETA, until the campaign is completed', async () => {
    const { s, id } = await campaignUnderWay();
    io = new FakeIo();
    io.interactive = true;
    let ticks = 0;
    io.onSleep = () => {
      ticks++;
      if (ticks === 30) s.close(s.contactId(id, '+33612345674') ?? 0, 'no-answer', null, io.time);
      if (ticks === 60) s.setCampaignState(id, 'completed', io.time);
    };

    const code = await run('status', 'relance', '--watch');

    expect(code).toBe(0);
    const frames = io.raw.split('\x1b[9A\r\x1b[J');
    expect(frames).toHaveLength(61);
    expect(frames[29]).toContain('[#####...............] 25% (1/4)');
    expect(frames[29]).toContain('  ETA           unknown  no contact finished yet');
    expect(frames[30]).toContain('[##########..........] 50% (2/4)');
    expect(frames[30]).toContain('  rate          2.0/min  contacts finished over 30s of watching');
    expect(frames[30]).toMatch(/ {2}ETA {11}1m 00s {2}about \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n/);
    expect(frames[60]).toContain('campaign relance (customer): completed');
  });

  it('--watch ends on Ctrl-C', async () => {
    await campaignUnderWay();
    io = new FakeIo();
    io.onSleep = () => io.interrupt?.();

    await expect(run('status', 'relance', '--watch')).resolves.toBe(0);
    expect(io.raw.match(/campaign relance/g)).toHaveLength(1);
    expect(io.interrupt).toBeNull();
  });

  it('a configured campaign not imported yet: exit 3', async () => {
    await expect(run('status', 'printemps')).resolves.toBe(3);
    expect(io.stderr).toEqual(['campaign printemps is not imported yet: voix campaign import printemps FILE.csv']);
  });
});

describe('voix campaign export', () => {
  it('CSV: byte order mark, ";" separator, a header, quotes where needed, one row per contact in file order', async () => {
    const previousTz = process.env['TZ'];
    process.env['TZ'] = 'UTC';
    try {
      await campaignUnderWay();
      io = new FakeIo();

      await run('export', 'relance');

      const lines = io.raw.split('\r\n');
      expect(lines[0]).toBe('\uFEFFphone;source_line;first_name;last_name;result;result_detail;result_at;waiting_reason;next_attempt_at;attempts;last_outcome;last_sip_status');
      expect(lines.slice(1)).toEqual([
        '+33612345671;2;Anne;Leroy;answered;;2026-11-26 09:00:30;;;1;answered;200',
        '+33612345672;3;Marc;"Martin; fils";;;;retry;2026-11-26 09:15:00;1;busy;486',
        '+33612345673;4;Léa;Petit;;;;;;1;in-flight;',
        '+33612345674;5;Paul;Durand;;;;;;0;;',
        '',
      ]);
    } finally {
      if (previousTz === undefined) delete process.env['TZ'];
      else process.env['TZ'] = previousTz;
    }
  });

  it('JSON to a file: the contacts with their full attempts list', async () => {
    await campaignUnderWay();
    io = new FakeIo();
    const output = path.join(dir, 'relance.json');

    await run('export', 'relance', '--format', 'json', '--output', output);

    expect(io.stdout).toEqual([`campaign relance: 4 contact(s) exported to ${output} (json)`]);
    const exported = JSON.parse(readFileSync(output, 'utf8')) as { campaign: string; contacts: Array<Record<string, unknown>> };
    expect(exported).toMatchObject({ campaign: 'relance', purpose: 'customer', state: 'running' });
    expect(exported.contacts).toHaveLength(4);
    expect(exported.contacts[1]).toEqual({
      phone: '+33612345672',
      sourceLine: 3,
      firstName: 'Marc',
      lastName: 'Martin; fils',
      result: null,
      resultDetail: null,
      resultAt: null,
      waitingReason: 'retry',
      nextAttemptAt: new Date(T0 + 15 * 60_000).toISOString(),
      attempts: [{ startedAt: new Date(T0).toISOString(), endedAt: new Date(T0 + 5000).toISOString(), outcome: 'busy', sipStatus: 486, detail: 'Busy Here', callId: 'call-2' }],
    });
  });

  it('refuses an unknown format', async () => {
    await expect(run('export', 'relance', '--format', 'xlsx')).rejects.toThrow('--format is csv or json (got "xlsx")');
  });
});

describe('voix dnc', () => {
  it('add normalises to E.164 and says when the number was already there; remove takes it off; list shows it', async () => {
    await runDnc('add', '06', '12', '34', '56', '78', '--reason', 'asked on the phone');
    await runDnc('add', '+33612345678');
    await runDnc('add', '0712345678');
    await runDnc('remove', '07 12 34 56 78');
    await runDnc('list');

    expect(io.stdout).toEqual([
      '+33612345678 added to the do-not-call list: no campaign calls it from now on',
      '+33612345678 is already on the do-not-call list',
      '+33712345678 added to the do-not-call list: no campaign calls it from now on',
      '+33712345678 removed from the do-not-call list: campaigns may call it again',
      'PHONE         ADDED                SOURCE',
      expect.stringMatching(/^\+33612345678  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  asked on the phone$/),
      '1 number(s) on the do-not-call list',
    ]);
    expect(store().isDoNotCall('+33612345678')).toBe(true);
  });

  it('an invalid number, or removing one that is not listed, is a user error naming it', async () => {
    await expect(runDnc('add', '12345')).rejects.toThrow(new UserError('invalid phone number "12345" (region FR): write it like 06 12 34 56 78 or +33 6 12 34 56 78'));
    await expect(runDnc('remove', '0612345678')).rejects.toThrow('+33612345678 is not on the do-not-call list');
  });

  it('import: skips a header, reports each bad line with its number, adds the good ones, counts', async () => {
    await runDnc('add', '0612345678');
    const list = file('opposition.csv', ['numéro;date', '0612345678;2026-01-01', '"07 12 34 56 78";2026-01-02', '', '06 12 34', '+32 470 12 34 56'].join('\r\n'));
    io = new FakeIo();

    const code = await runDnc('import', list);

    expect(code).toBe(0);
    expect(io.stderr).toEqual([`${list}:5: invalid phone number "06 12 34" (region FR)`]);
    expect(io.stdout).toEqual([`${list}: 2 number(s) added to the do-not-call list, 1 already there, 1 rejected (header line 1 skipped)`]);
    await runDnc('list', '--json');
    const listed = JSON.parse(io.stdout.slice(1).join('\n')) as Array<{ phone: string; source: string }>;
    expect(listed.map((e) => e.phone)).toEqual(['+32470123456', '+33612345678', '+33712345678']);
    expect(listed[2]?.source).toBe(`voix dnc import ${list}:3`);
  });
});

describe('helpers', () => {
  it('progressBar: floor, never full before the end, empty campaign', () => {
    expect(progressBar(21, 50, 10)).toBe('[####......] 42% (21/50)');
    expect(progressBar(49, 50, 10)).toBe('[#########.] 98% (49/50)');
    expect(progressBar(0, 0, 10)).toBe('[..........] 0% (0/0)');
  });

  it('csvField: quotes separators, quotes and line breaks; defuses formulas from outside text', () => {
    expect(csvField('a;b')).toBe('"a;b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")', true)).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('+33612345678')).toBe('+33612345678');
  });
});
