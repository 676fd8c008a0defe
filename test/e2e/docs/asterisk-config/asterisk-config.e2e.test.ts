/**
 * DOC-ASTERISK-01: the Asterisk 22 configuration that docs/asterisk.md shows
 * (pjsip.conf and extensions.conf) is what runs here. The ```ini blocks of
 * the page whose first line is MARKER are read as the reader sees them, and
 * changed only by the replacements of substitutions() (addresses and
 * ports of this machine); Asterisk runs them from the benchmark's root file
 * system (bench/peers/asterisk.ts: Debian unstable's asterisk package, chroot
 * in a private mount namespace).
 *
 * Also in place, as the page tells the reader: the TLS key and certificate in
 * /etc/asterisk/keys (a throwaway CA made here), the prompts in
 * /usr/share/asterisk/sounds/fr/custom (tones made here). The operator is a
 * SIPp registrar and callee (uas-operator-…xml) reached through the trunk's
 * own name, sip.operateur.example, given an address in /etc/hosts.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { ensureAsteriskRootfs, startAsterisk, type Asterisk } from '../../../../bench/peers/asterisk.js';
import {
  getFreePort,
  getFreePortRange,
  makeTempDir,
  makeTestCertificates,
  registerCleanup,
  registerDiagnosable,
  startBaresip,
  runSipp,
  startSipp,
  useHarness,
  writeToneWav,
  type Baresip,
  type SippRun,
} from '../../harness/index.js';
import { expectHeardTone, finalInviteResponse, letAudioFlow } from '../../calls/call-helpers.js';

useHarness();

const PAGE = fileURLToPath(new URL('../../../../docs/asterisk.md', import.meta.url));
const OPERATOR = fileURLToPath(new URL('./uas-operator-registrar-digest-invite-expect-486.xml', import.meta.url));
const OPERATOR_CALLS_IN = fileURLToPath(new URL('./uac-operator-invite-did-expect-200-then-bye.xml', import.meta.url));
/** The operator's address here: its own, so that identify (by source address) never takes the phones (127.0.0.1) for it. */
const OPERATOR_ADDRESS = '127.0.0.2';
const MARKER = '; vérifié par le cas DOC-ASTERISK-01';

/** Tones of the two phones, and of every prompt of the menu (so what 1001 hears from the menu is told from 1002's voice). */
const TONE_1001_HZ = 1000;
const TONE_1002_HZ = 440;
const TONE_PROMPT_HZ = 700;

/** A number 1001 (class national) may call and 1002 (class interne) may not: a Paris fixed line, national format. */
const NATIONAL_NUMBER = '0145678901';

interface DocumentedConfig {
  readonly pjsip: string;
  readonly extensions: string;
}

/** The two ```ini blocks of the page that start with MARKER, as the reader sees them (marker line included). */
async function documentedConfig(): Promise<DocumentedConfig> {
  const lines = (await readFile(PAGE, 'utf8')).split('\n');
  const blocks: string[] = [];
  lines.forEach((line, index) => {
    if (line !== '```ini' || lines[index + 1] !== MARKER) return;
    const end = lines.findIndex((l, i) => i > index && l.startsWith('```'));
    blocks.push(`${lines.slice(index + 1, end).join('\n')}\n`);
  });
  const pjsip = blocks.filter((block) => /^type = endpoint$/m.test(block));
  const extensions = blocks.filter((block) => /^exten => /m.test(block));
  if (blocks.length !== 2 || pjsip.length !== 1 || extensions.length !== 1 || pjsip[0] === undefined || extensions[0] === undefined) {
    throw new Error(`docs/asterisk.md: expected two \`\`\`ini blocks starting with "${MARKER}" (pjsip.conf, extensions.conf), found ${blocks.length}`);
  }
  return { pjsip: pjsip[0], extensions: extensions[0] };
}

interface Substitution {
  readonly from: RegExp;
  readonly to: string;
  /** How many times the page has it: a page that changed makes the test say so rather than run something else. */
  readonly count: number;
  readonly why: string;
}

/** The only changes made to what the reader copies: where to listen and where the operator is, on this machine. */
function substitutions(ports: { tls: number; udp: number; operator: number }): Substitution[] {
  return [
    { from: /^bind = 0\.0\.0\.0:5061$/m, to: `bind = 127.0.0.1:${ports.tls}`, count: 1, why: 'TLS on loopback, a free port' },
    { from: /^bind = 0\.0\.0\.0:5060$/m, to: `bind = 127.0.0.1:${ports.udp}`, count: 1, why: 'UDP on loopback, a free port' },
    {
      from: /^(server_uri|contact) = sip:sip\.operateur\.example$/gm,
      to: `$1 = sip:sip.operateur.example:${ports.operator}`,
      count: 2,
      why: "the operator's port: SIPp on a free port rather than 5060",
    },
    { from: /^match = 198\.51\.100\.0\/24$/m, to: `match = ${OPERATOR_ADDRESS}`, count: 1, why: "the operator's address (the page's is a documentation range, RFC 5737)" },
  ];
}

function substitute(text: string, list: readonly Substitution[]): string {
  let out = text;
  for (const s of list) {
    const found = text.match(new RegExp(s.from.source, s.from.flags.includes('g') ? s.from.flags : `${s.from.flags}g`))?.length ?? 0;
    if (found !== s.count) throw new Error(`docs/asterisk.md: ${s.from} (${s.why}) found ${found} time(s), expected ${s.count}: update the test with the page`);
    out = out.replace(s.from, s.to);
  }
  return out;
}

/** Passwords of the page's phones, read from their [ext](auth-poste) sections. */
function passwordOf(pjsip: string, extension: string): string {
  const section = new RegExp(`^\\[${extension}\\]\\(auth-poste\\)\\n(?:.*\\n)*?password = (\\S+)$`, 'm').exec(pjsip);
  if (section?.[1] === undefined) throw new Error(`docs/asterisk.md: no password for ${extension} in pjsip.conf`);
  return section[1];
}

/** Trunk credentials of the page ([operateur-auth]). */
function operatorAuth(pjsip: string): { username: string; password: string } {
  const section = /^\[operateur-auth\]\n((?:(?!\[).*\n)*)/m.exec(pjsip)?.[1] ?? '';
  const username = /^username = (\S+)$/m.exec(section)?.[1];
  const password = /^password = (\S+)$/m.exec(section)?.[1];
  if (username === undefined || password === undefined) throw new Error('docs/asterisk.md: no [operateur-auth] username/password');
  return { username, password };
}

interface Lab {
  readonly asterisk: Asterisk;
  readonly caFile: string;
  readonly config: DocumentedConfig;
  readonly tlsPort: number;
  readonly udpPort: number;
  readonly logDir: string;
  readonly dir: string;
}

let rootfs = '';

beforeAll(() => {
  // Built once (about a minute, mmdebstrap) and cached; fails, never skips, when it cannot be built.
  rootfs = ensureAsteriskRootfs((line) => process.stderr.write(`${line}\n`));
}, 300_000);

/** Asterisk running the page's configuration; stopped by the cleanup. */
async function startDocumentedAsterisk(operatorPort: number): Promise<Lab> {
  const config = await documentedConfig();
  const dir = await makeTempDir('asterisk-doc');
  const [tls, udp] = [await getFreePort(), await getFreePort()];
  // rtp.conf wants an even start (RTP on even ports, RTCP on the next).
  const rtpBase = await getFreePortRange(41);
  const rtpStart = rtpBase % 2 === 0 ? rtpBase : rtpBase + 1;
  const list = substitutions({ tls, udp, operator: operatorPort });
  const certificates = await makeTestCertificates({ subjectAltNames: ['DNS:pme.example', 'IP:127.0.0.1'], commonName: 'pme.example' });
  const sounds = join(dir, 'sounds-fr-custom');
  const logDir = join(dir, 'log');
  await mkdir(sounds, { recursive: true });
  await mkdir(logDir, { recursive: true });
  // Every prompt the dialplan plays (Background/Playback custom/…): 8 kHz 16-bit WAV, which Asterisk reads (format_wav).
  for (const name of ['accueil', 'accueil-ferme', 'choix-inexistant', 'pas-entendu', 'fermeture']) {
    await writeToneWav(join(sounds, `${name}.wav`), { frequencyHz: TONE_PROMPT_HZ, seconds: 3 });
  }
  const asterisk = await startAsterisk({
    rootfs,
    sipPort: udp,
    rtpStart,
    rtpEnd: rtpStart + 39,
    users: {},
    dialplan: [],
    pin: [],
    configFiles: {
      'pjsip.conf': substitute(config.pjsip, list),
      'extensions.conf': config.extensions,
      'keys/asterisk.crt': await readFile(certificates.certFile),
      'keys/asterisk.key': await readFile(certificates.keyFile),
      // Warnings and errors into /var/log/asterisk/messages (a dir of this test, bind-mounted).
      'logger.conf': '[general]\n[logfiles]\nconsole => error\nmessages => notice,warning,error\n',
    },
    binds: [
      { source: sounds, target: '/usr/share/asterisk/sounds/fr/custom' },
      { source: logDir, target: '/var/log/asterisk' },
    ],
    hosts: { 'sip.operateur.example': OPERATOR_ADDRESS },
  });
  registerCleanup('stop asterisk', () => asterisk.stop());
  registerDiagnosable({
    label: 'asterisk',
    diagnostics: () => `${asterisk.output().slice(-4000)}\n--- /var/log/asterisk/messages ---\n${logText(logDir).slice(-6000)}`,
  });
  return { asterisk, caFile: certificates.caFile, config, tlsPort: tls, udpPort: udp, logDir, dir };
}

/** /var/log/asterisk/messages of the run (notice, warning, error). */
function logText(logDir: string): string {
  try {
    return readFileSync(join(logDir, 'messages'), 'utf8');
  } catch {
    return '';
  }
}

/**
 * Warnings and errors of the modules that read the page's two files or run
 * its calls. Asterisk loads every module it has (autoload), and many of them
 * complain at start-up about their own missing file (voicemail.conf,
 * queues.conf, pjsip_wizard.conf…): that is not about the page.
 */
const PAGE_MODULES = /\b(?:WARNING|ERROR)\[\d+\](?:\[[^\]]*\])? (?:res_pjsip[\w/]*\.c|chan_pjsip\.c|pjproject|config\.c|config_options\.c|res_sorcery_config\.c|pbx_config\.c|pbx\.c|pbx_builtins\.c|app_dial\.c|file\.c|res_srtp\.c|res_rtp_asterisk\.c|sdp\w*\.c):/;
const NOT_ABOUT_THE_PAGE = /Unable to load config file '(?!pjsip\.conf'|extensions\.conf')[^']+'/;

function pageErrors(logDir: string, expected: RegExp[] = []): string[] {
  return logText(logDir)
    .split('\n')
    .filter((line) => PAGE_MODULES.test(line) && !NOT_ABOUT_THE_PAGE.test(line) && !expected.some((e) => e.test(line)));
}

interface PjsipSection {
  readonly name: string;
  readonly type: string;
}

/** The objects the page's pjsip.conf defines: [name] or [name](template), type from the section or its template; templates left out. */
function pjsipSections(pjsip: string): PjsipSection[] {
  const templates = new Map<string, string>();
  const sections: PjsipSection[] = [];
  for (const match of pjsip.matchAll(/^\[([^\]]+)\](\([^)]*\))?[^\n]*\n((?:(?!\[).*\n?)*)/gm)) {
    const [, name = '', options = '', body = ''] = match;
    const inherited = options.replace(/[()]/g, '').split(',').map((t) => templates.get(t.trim()));
    const type = /^type = (\w+)/m.exec(body)?.[1] ?? inherited.find((t) => t !== undefined) ?? '';
    if (options === '(!)') templates.set(name, type);
    else sections.push({ name, type });
  }
  return sections;
}

/** Where each type of object is listed by the CLI, and how a name shows there. */
const SHOWN_BY: Readonly<Record<string, { command: string; line: (name: string) => RegExp }>> = {
  transport: { command: 'pjsip show transports', line: (n) => new RegExp(`^\\s*Transport:\\s+${n}\\s`, 'm') },
  endpoint: { command: 'pjsip show endpoints', line: (n) => new RegExp(`^\\s*Endpoint:\\s+${n}/`, 'm') },
  auth: { command: 'pjsip show auths', line: (n) => new RegExp(`^\\s*Auth:\\s+${n}/`, 'm') },
  aor: { command: 'pjsip show aors', line: (n) => new RegExp(`^\\s*Aor:\\s+${n}\\s`, 'm') },
  registration: { command: 'pjsip show registrations', line: (n) => new RegExp(`^\\s*${n}/sip:`, 'm') },
  identify: { command: 'pjsip show identifies', line: (n) => new RegExp(`^\\s*Identify:\\s+${n}/`, 'm') },
};

/** Waits (bounded) for a CLI output to match; polling is the only way to read Asterisk's state from outside. */
async function waitForCli(asterisk: Asterisk, command: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const output = asterisk.cli(command);
    if (pattern.test(output)) return output;
    if (Date.now() > deadline) throw new Error(`asterisk -rx "${command}" did not show ${pattern} within ${timeoutMs} ms:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface Phone {
  readonly phone: Baresip;
  readonly recordDir: string;
}

/** A baresip registered as one of the page's phones over TLS, SRTP (SDES) mandatory unless told otherwise; its microphone is a tone. */
async function startPhone(lab: Lab, extension: string, toneHz: number, options: { srtp?: boolean } = {}): Promise<Phone> {
  const tone = await writeToneWav(join(lab.dir, `tone-${extension}.wav`), { frequencyHz: toneHz, seconds: 20 });
  const recordDir = join(lab.dir, `recordings-${extension}`);
  await mkdir(recordDir, { recursive: true });
  const phone = await startBaresip({
    account: {
      user: extension,
      password: passwordOf(lab.config.pjsip, extension),
      domain: `127.0.0.1:${lab.tlsPort}`,
      transport: 'tls',
      extra: options.srtp === false ? undefined : ';mediaenc=srtp-mand',
    },
    caFile: lab.caFile,
    audioSource: `aufile,${tone}`,
    recordDir,
  });
  const registration = await phone.waitForRegistration(10_000);
  expect(registration, `registration of ${extension}`).toMatchObject({ ok: true, status: '200 OK' });
  return { phone, recordDir };
}

/** Dials a number on the page's Asterisk, over TLS. */
async function dial(lab: Lab, phone: Baresip, number: string): Promise<void> {
  const uri = `sip:${number}@127.0.0.1:${lab.tlsPort};transport=tls`;
  const response = await phone.command('dial', uri);
  expect(response.ok, `dial ${uri}: ${response.data}`).toBe(true);
}

/**
 * The operator: SIPp as registrar and callee. With `calls`, it ends after
 * that many dialogs (the registration is one); without, the test stops it.
 */
async function startOperator(config: DocumentedConfig, calls?: number): Promise<SippRun> {
  const auth = operatorAuth(config.pjsip);
  return startSipp({
    scenario: OPERATOR,
    ...(calls === undefined ? {} : { calls }),
    keys: { user: auth.username, password: auth.password },
    localAddress: OPERATOR_ADDRESS,
    bindLocal: true,
    timeoutMs: 40_000,
  });
}

it('DOC-ASTERISK-01: Asterisk 22 loads the pjsip.conf and extensions.conf of the page without error and registers the trunk with digest', async () => {
  const config = await documentedConfig();
  const operator = await startOperator(config, 1);
  const lab = await startDocumentedAsterisk(operator.localPort);

  // Every object of pjsip.conf, as the CLI lists it.
  const sections = pjsipSections(config.pjsip);
  expect(sections.map((s) => `${s.name}:${s.type}`).sort()).toEqual(
    [
      'transport-tls:transport', 'transport-udp:transport', 'operateur-auth:auth',
      ...['1001', '1002', '1003', '1004'].flatMap((e) => [`${e}:endpoint`, `${e}:auth`, `${e}:aor`]),
      'operateur:registration', 'operateur:aor', 'operateur:endpoint', 'operateur:identify',
    ].sort(),
  );
  for (const section of sections) {
    const shown = SHOWN_BY[section.type];
    if (shown === undefined) throw new Error(`no CLI listing for type ${section.type}`);
    expect(lab.asterisk.cli(shown.command), `${section.type} ${section.name} in "${shown.command}"`).toMatch(shown.line(section.name));
  }
  // What the poste template gives a phone, read back from Asterisk.
  const endpoint1002 = lab.asterisk.cli('pjsip show endpoint 1002');
  expect(endpoint1002).toMatch(/^\s*media_encryption\s*:\s*sdes\s*$/m);
  expect(endpoint1002).toMatch(/^\s*media_encryption_optimistic\s*:\s*false\s*$/m);
  expect(endpoint1002).toMatch(/^\s*context\s*:\s*interne\s*$/m);
  expect(endpoint1002).toMatch(/^\s*transport\s*:\s*transport-tls\s*$/m);

  // Every priority of extensions.conf is in the dialplan, at its line of the file, in the contexts the page describes.
  const dialplan = lab.asterisk.cli('dialplan show');
  const fileLines = config.extensions.split('\n');
  const priorityLines = fileLines.flatMap((line, index) => (/^\s*(exten|same) =>/.test(line) ? [index + 1] : []));
  const loadedLines = [...dialplan.matchAll(/\[extensions\.conf:(\d+)\]/g)].map((m) => Number(m[1]));
  expect(loadedLines.sort((a, b) => a - b)).toEqual(priorityLines);
  for (const context of ['interne', 'national', 'international', 'entrant', 'menu-standard']) {
    expect(dialplan, `context ${context}`).toContain(`[ Context '${context}' created by 'pbx_config' ]`);
  }
  expect(lab.asterisk.cli('dialplan show national')).toMatch(/Include =>\s+'interne'/);
  expect(lab.asterisk.cli('dialplan show international')).toMatch(/Include =>\s+'national'/);

  // The trunk registers to the operator, which checked the digest. Asterisk sends its first REGISTER 1 to 10 s
  // after start-up (a random delay, res_pjsip_outbound_registration); `pjsip send register` would unregister first.
  await waitForCli(lab.asterisk, 'pjsip show registrations', /^\s*operateur\/sip:\S+\s+operateur-auth\s+Registered/m, 15_000);
  const sipp = await operator.result();
  expect(sipp.logs).toContain(`register digest valid=true username="${operatorAuth(config.pjsip).username}"`);
  expect(sipp.messages).toMatch(/^REGISTER sip:sip\.operateur\.example:\d+ SIP\/2\.0/m);
  // contact_user: the operator's calls come to the company's number, not to "s".
  expect(sipp.messages).toMatch(new RegExp(`^Contact: <sip:${operatorAuth(config.pjsip).username}@127\\.0\\.0\\.1:${lab.udpPort}>`, 'm'));

  expect(pageErrors(lab.logDir)).toEqual([]);
});

it('DOC-ASTERISK-01: 1001 calls 1002 over TLS with SRTP (SDES) through the page\'s Asterisk and each hears the other; a phone without SRTP is refused', async () => {
  const config = await documentedConfig();
  const operator = await startOperator(config);
  const lab = await startDocumentedAsterisk(operator.localPort);
  const a = await startPhone(lab, '1001', TONE_1001_HZ);
  const b = await startPhone(lab, '1002', TONE_1002_HZ);

  const aSince = a.phone.mark();
  const bSince = b.phone.mark();
  await dial(lab, a.phone, '1002');
  await b.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000, bSince);
  expect((await b.phone.command('accept')).ok).toBe(true);
  await b.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, bSince);
  await a.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, aSince);
  const channels = lab.asterisk.cli('core show channels');
  await letAudioFlow(2500);
  const bClosedSince = b.phone.mark();
  expect((await a.phone.command('hangup')).ok).toBe(true);
  await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, bClosedSince);

  await expectHeardTone(a.recordDir, TONE_1002_HZ, 1.5, '1001 heard');
  await expectHeardTone(b.recordDir, TONE_1001_HZ, 1.5, '1002 heard');
  expect(channels).toMatch(/PJSIP\/1001-\w+/);
  expect(channels).toMatch(/PJSIP\/1002-\w+/);
  // SDP Asterisk sent each phone (their own traces, TLS decrypted): RTP/SAVP with an SDES key.
  const offerToB = b.phone.sipMessages().find((m) => m.firstLine.startsWith('INVITE ') && m.text.includes('m=audio'));
  expect(offerToB?.text).toMatch(/^m=audio \d+ RTP\/SAVP /m);
  expect(offerToB?.text).toMatch(/^a=crypto:\d+ AES_CM_128_HMAC_SHA1_(80|32) inline:/m);
  const answerToA = [...a.phone.sipMessages()].reverse().find((m) => /^SIP\/2\.0 200 /.test(m.firstLine) && m.text.includes('m=audio'));
  expect(answerToA?.text).toMatch(/^m=audio \d+ RTP\/SAVP /m);
  expect(answerToA?.text).toMatch(/^a=crypto:\d+ AES_CM_128_HMAC_SHA1_(80|32) inline:/m);

  // media_encryption_optimistic = no: a phone offering plain RTP (1004 without mediaenc) gets no call through.
  const clear = await startPhone(lab, '1004', TONE_1002_HZ, { srtp: false });
  const clearSince = clear.phone.mark();
  const aIncomingSince = a.phone.mark();
  await dial(lab, clear.phone, '1001');
  const closed = await clear.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, clearSince);
  const refusal = finalInviteResponse(clear.phone);
  expect(refusal?.firstLine, `1004's plain RTP call closed: ${closed.param ?? ''}`).toMatch(/^SIP\/2\.0 488 /);
  expect(a.phone.events().slice(aIncomingSince).some((e) => e.type === 'CALL_INCOMING')).toBe(false);

  await operator.stop();
  // The one error: Asterisk saying why it refused 1004's offer.
  expect(pageErrors(lab.logDir, [/res_pjsip_session\.c:\s+1004: Couldn't negotiate stream \d+:audio/])).toEqual([]);
});

it('DOC-ASTERISK-01: the classes of the page: 1002 (interne) cannot call 0145678901, 1001 (national) goes out by the trunk; the menu answers 3000, its key 1 rings the group 2000, and the operator\'s calls to 0123456789 reach it', async () => {
  const config = await documentedConfig();
  // The trunk's registration comes at any time in the first 10 s: the operator answers it, the test does not wait for it.
  const operator = await startOperator(config);
  const lab = await startDocumentedAsterisk(operator.localPort);
  const a = await startPhone(lab, '1001', TONE_1001_HZ);
  const b = await startPhone(lab, '1002', TONE_1002_HZ);

  // 1002 (context interne): no extension for a national number.
  const bSince = b.phone.mark();
  await dial(lab, b.phone, NATIONAL_NUMBER);
  await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, bSince);
  const refused = finalInviteResponse(b.phone);

  // 1001 (context national, which includes interne): out by the trunk, in E.164; the operator answers busy.
  const aSince = a.phone.mark();
  await dial(lab, a.phone, NATIONAL_NUMBER);
  await a.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, aSince);
  const busy = finalInviteResponse(a.phone);
  const sipp = await operator.stop();

  expect(refused?.firstLine).toMatch(/^SIP\/2\.0 404 /);
  expect(busy?.firstLine).toMatch(/^SIP\/2\.0 486 /);
  const expectedUri = `sip:+33${NATIONAL_NUMBER.slice(1)}@sip.operateur.example:${operator.localPort}`;
  expect(sipp.logs).toContain(`invite INVITE ${expectedUri}`);
  // One INVITE reached the operator: 1001's, not 1002's.
  expect(sipp.messages.match(/^INVITE sip:/gm)?.length).toBe(1);
  expect(sipp.errors, 'unexpected messages at the operator').not.toMatch(/Unexpected|Aborting/i);

  // The menu: 3000 answers and plays its greeting (open or closed, whichever the clock says; both are the prompt tone here).
  const menuSince = a.phone.mark();
  await dial(lab, a.phone, '3000');
  await a.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, menuSince);
  await letAudioFlow(2500);
  expect((await a.phone.command('hangup')).ok).toBe(true);
  await a.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, menuSince);
  await expectHeardTone(a.recordDir, TONE_PROMPT_HZ, 1.5, '1001 heard from the menu');

  // Key 1 of the menu (RFC 4733 from 1003): the group 2000 rings 1001 and 1002 together; 1002 answers.
  const c = await startPhone(lab, '1003', TONE_PROMPT_HZ);
  const cSince = c.phone.mark();
  const ringSince = { a: a.phone.mark(), b: b.phone.mark() };
  await dial(lab, c.phone, '3000');
  await c.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, cSince);
  await c.phone.pressKey('1');
  // "1" also starts 1001-1004 (direct dialling): Asterisk waits TIMEOUT(digit) = 3 s for another digit.
  await a.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000, ringSince.a);
  await b.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000, ringSince.b);
  expect((await b.phone.command('accept')).ok).toBe(true);
  await b.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, ringSince.b);
  const groupChannels = lab.asterisk.cli('core show channels concise');
  expect((await c.phone.command('hangup')).ok).toBe(true);
  await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, ringSince.b);
  await a.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, ringSince.a);
  expect(groupChannels).toMatch(/^PJSIP\/1003-\w+!interne!2000!1!Up!Dial!PJSIP\/1001&PJSIP\/1002,20!/m);

  // The operator calls the company's number from its address: identify, context entrant, the menu answers.
  const inbound = await runSipp({
    scenario: OPERATOR_CALLS_IN,
    remote: `127.0.0.1:${lab.udpPort}`,
    service: '0123456789',
    localAddress: OPERATOR_ADDRESS,
    calls: 1,
    timeoutMs: 20_000,
  });
  expect(inbound, inbound.errors).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
  expect(inbound.logs).toMatch(/answered with m=audio \d+ RTP\/AVP 8/);

  expect(pageErrors(lab.logDir)).toEqual([]);
});
