/**
 * Captures real SIP exchanges with voix and writes them as a documentation
 * page (docs/concepts/echanges-captures.md): Mermaid sequence diagrams and
 * the full text of every message, as dumpcap saw them on the loopback
 * interface and tshark read them back.
 *
 * What runs: the real server (dist/server.js, through the end-to-end
 * harness), Linphone (linphone-daemon, 1001) and baresip (1002), both over
 * UDP so that the capture is readable (the same messages travel inside TLS
 * in production). Sequence: both phones register (digest), Linphone calls
 * 1002, baresip answers, a second of audio, Linphone hangs up (BYE).
 *
 * Run by hand, as root (capture on lo), after `npm run build`:
 *   npx tsx scripts/capture-ladders.ts [--out docs/concepts/echanges-captures.md]
 * Needs the Debian packages baresip, linphone-cli and tshark. The output is
 * committed; passwords, nonces and tags in it are test values.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeToneWav } from '../test/e2e/harness/audio.js';
import { startBaresip } from '../test/e2e/harness/baresip.js';
import { startCapture, type CapturedDatagram } from '../test/e2e/harness/capture.js';
import { makeTempDir, runCleanups } from '../test/e2e/harness/cleanup.js';
import { startLinphone } from '../test/e2e/harness/linphone.js';
import { getFreePortRange } from '../test/e2e/harness/ports.js';
import { rtpFlows } from '../test/e2e/harness/rtp.js';
import { REPO_ROOT, startVoix, type VoixServer } from '../test/e2e/harness/voix.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs/concepts/echanges-captures.md' } } });
const OUT = resolve(REPO_ROOT, values.out ?? 'docs/concepts/echanges-captures.md');

const USERS = [
  { extension: '1001', name: 'Alice Martin', password: 'Tournesol-Bleu-1001', transports: ['udp'] as const, srtp: 'off' as const },
  { extension: '1002', name: 'Bernard Dupont', password: 'Cerisier-Rouge-1002', transports: ['udp'] as const, srtp: 'off' as const },
];

/** One SIP message as captured. */
interface SipOnWire {
  readonly time: number;
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly firstLine: string;
  readonly callId: string;
  readonly cseqMethod: string;
}

function header(text: string, name: string, compact?: string): string {
  const names = [name, ...(compact === undefined ? [] : [compact])].map((n) => n.toLowerCase());
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && names.includes(line.slice(0, colon).trim().toLowerCase())) return line.slice(colon + 1).trim();
  }
  return '';
}

function readSip(datagrams: readonly CapturedDatagram[], name: (port: number) => string): SipOnWire[] {
  return datagrams
    .map((d) => ({ d, text: d.payload.toString('utf8') }))
    .filter(({ text }) => /^(?:[A-Z]+ \S+ SIP\/2\.0|SIP\/2\.0 \d{3})/.test(text))
    .map(({ d, text }) => ({
      time: d.time,
      from: name(d.sourcePort),
      to: name(d.destinationPort),
      text,
      firstLine: text.slice(0, text.indexOf('\r\n')),
      callId: header(text, 'Call-ID', 'i'),
      cseqMethod: header(text, 'CSeq').split(/\s+/)[1] ?? '',
    }));
}

function body(text: string): string {
  const split = text.indexOf('\r\n\r\n');
  return split < 0 ? '' : text.slice(split + 4);
}

/** Codecs of an SDP body, in its order: encoding/clock rate from a=rtpmap, or the static payload type's (RFC 3551). */
function codecs(sdp: string): string[] {
  const media = /^m=audio \d+ \S+ ([\d ]+)$/m.exec(sdp)?.[1]?.trim().split(' ') ?? [];
  const names = media.map((pt) => {
    const rtpmap = new RegExp(`^a=rtpmap:${pt} ([^/\\r]+)/(\\d+)`, 'm').exec(sdp);
    if (rtpmap !== null) return rtpmap[1] === 'PCMU' || rtpmap[1] === 'PCMA' || rtpmap[1] === 'telephone-event' ? `${rtpmap[1] ?? ''}` : `${rtpmap[1] ?? ''}/${rtpmap[2] ?? ''}`;
    return ({ '0': 'PCMU', '8': 'PCMA', '9': 'G722', '18': 'G729' } as Record<string, string>)[pt] ?? `PT ${pt}`;
  });
  // telephone-event once per clock rate in the offer: written once, with its count.
  const events = names.filter((n) => n === 'telephone-event').length;
  return [...names.filter((n) => n !== 'telephone-event'), ...(events === 0 ? [] : [events === 1 ? 'telephone-event' : `telephone-event ×${events}`])];
}

/** A short label for the diagram arrow: method or status, plus what matters in it. */
function label(message: SipOnWire): string {
  const sdp = body(message.text);
  const status = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(message.firstLine);
  let text = status === null ? message.firstLine.split(' ')[0] ?? '' : `${status[1]} ${status[2]}`;
  if (status !== null) text += ` (${message.cseqMethod})`;
  const challenges = [...message.text.matchAll(/^(?:WWW|Proxy)-Authenticate:.*algorithm=([\w-]+)/gim)].map((m) => m[1]);
  if (challenges.length > 0) text += ` — défi ${challenges.join(' + ')}`;
  const credentials = /^(?:Proxy-)?Authorization:(.*)$/im.exec(message.text)?.[1];
  if (credentials !== undefined) text += ` — réponse digest ${/algorithm=([\w-]+)/i.exec(credentials)?.[1] ?? 'MD5 (implicite)'}`;
  if (sdp.includes('m=audio')) text += ` — SDP ${codecs(sdp).join(', ')}`;
  const expires = header(message.text, 'Expires');
  if (message.cseqMethod === 'REGISTER' && status?.[1] === '200') text += ` — Expires ${/expires=(\d+)/.exec(header(message.text, 'Contact'))?.[1] ?? expires}`;
  // Mermaid ends a statement at ";" and reads "#" as an entity.
  return text.replace(/;/g, '#59;');
}

function mermaidLadder(participants: readonly [string, string][], messages: readonly SipOnWire[], extra: (index: number) => string[] = () => []): string {
  const lines = ['```mermaid', 'sequenceDiagram', '  autonumber'];
  for (const [id, name] of participants) lines.push(`  participant ${id} as ${name}`);
  messages.forEach((message, index) => {
    lines.push(`  ${message.from}->>${message.to}: ${label(message)}`);
    lines.push(...extra(index).map((line) => `  ${line}`));
  });
  lines.push('```');
  return lines.join('\n');
}

function excerpts(messages: readonly SipOnWire[], origin: number, names: Record<string, string>): string {
  return messages
    .map((message, index) => {
      const ms = Math.round((message.time - origin) * 1000);
      const title = `${index + 1}. ${names[message.from] ?? message.from} → ${names[message.to] ?? message.to} : ${message.firstLine} (t = ${ms} ms)`;
      return [`::: details ${title}`, '```http', message.text.replace(/\r\n/g, '\n').trimEnd(), '```', ':::'].join('\n');
    })
    .join('\n\n');
}

async function waitForLine(voix: VoixServer, msg: string, since: number): Promise<void> {
  await voix.waitForLog((log) => log.msg === msg, 10_000, since);
}

async function main(): Promise<void> {
  const portMin = await getFreePortRange(40);
  const voix = await startVoix({ users: USERS, config: { media: { port_min: portMin, port_max: portMin + 39 } } });
  const dir = await makeTempDir('ladders');
  const tone = await writeToneWav(join(dir, 'tone.wav'), { frequencyHz: 1000, seconds: 20 });
  const capture = await startCapture({ filter: `udp port ${voix.ports.udp} or udp portrange ${portMin}-${portMin + 39}` });

  const alice = await startLinphone({ account: voix.account('1001', 'udp') });
  const aliceRegistration = await alice.waitForRegistration(10_000);
  if (!aliceRegistration.ok) throw new Error(`Linphone did not register: ${aliceRegistration.status}`);
  const bernard = await startBaresip({ account: voix.account('1002', 'udp') });
  const bernardRegistration = await bernard.waitForRegistration(10_000);
  if (!bernardRegistration.ok) throw new Error(`baresip did not register: ${bernardRegistration.status}`);

  const callId = await alice.call(`sip:1002@127.0.0.1:${voix.ports.udp}`);
  await bernard.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000);
  if (!(await bernard.command('accept')).ok) throw new Error('baresip could not accept the call');
  await alice.waitForCallState('StreamsRunning', 10_000, { id: callId });
  await alice.playFile(tone, callId);
  // Six seconds of audio both ways: RTP, and the first RTCP reports (every 5 s or so, RFC 3550 §6.2).
  await new Promise((done) => setTimeout(done, 6000));
  const since = voix.mark();
  await alice.terminate(callId);
  await waitForLine(voix, 'call ended', since);
  await bernard.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);
  // dumpcap loses the packets of its last, not yet delivered buffer block when stopped at once.
  await new Promise((done) => setTimeout(done, 1500));
  await capture.stop();

  if (process.env['LADDERS_DEBUG'] === '1') {
    for (const d of await capture.udp()) process.stderr.write(`${d.time.toFixed(3)} ${d.sourcePort}>${d.destinationPort} ${d.payload.length} ${d.payload.subarray(0, 2).toString('hex')} ${d.payload.toString('latin1').split('\r\n')[0]?.slice(0, 60) ?? ''}\n`);
  }
  // Who is who: voix's SIP port and relay ports, the phones' ports from their REGISTER and SDP.
  const all = await capture.udp();
  const sipPorts = new Map<number, string>([[voix.ports.udp, 'V']]);
  for (const d of all) {
    const text = d.payload.toString('utf8');
    if (!text.startsWith('REGISTER ')) continue;
    const user = /^From:.*?sip:(\d+)@/im.exec(text)?.[1];
    if (user === '1001') sipPorts.set(d.sourcePort, 'L');
    if (user === '1002') sipPorts.set(d.sourcePort, 'B');
  }
  const name = (port: number): string => sipPorts.get(port) ?? (port >= portMin && port < portMin + 40 ? 'V' : `?${port}`);
  const sip = readSip(
    all.filter((d) => d.sourcePort === voix.ports.udp || d.destinationPort === voix.ports.udp),
    name,
  );
  const origin = sip[0]?.time ?? 0;
  const participants: [string, string][] = [
    ['L', 'Linphone (1001)'],
    ['V', 'voix'],
    ['B', 'baresip (1002)'],
  ];
  const names = { L: 'Linphone (1001)', V: 'voix', B: 'baresip (1002)' };

  const registerOf = (who: string) => {
    const first = sip.find((m) => m.cseqMethod === 'REGISTER' && m.from === who);
    return sip.filter((m) => m.cseqMethod === 'REGISTER' && m.callId === first?.callId).slice(0, 4);
  };
  const registrations = { alice: registerOf('L'), bernard: registerOf('B') };
  const invite = sip.find((m) => m.firstLine.startsWith('INVITE ') && m.from === 'L');
  const legB = sip.find((m) => m.firstLine.startsWith('INVITE ') && m.from === 'V' && m.to === 'B');
  const callIds = new Set([invite?.callId, legB?.callId]);
  const inCall = sip.filter((m) => callIds.has(m.callId));
  const setup = inCall.filter((m) => m.cseqMethod !== 'BYE');
  const teardown = inCall.filter((m) => m.cseqMethod === 'BYE');
  const others = sip.filter((m) => !callIds.has(m.callId) && !registrations.alice.includes(m) && !registrations.bernard.includes(m));

  // Media: RTP flows of the call (relay ports ↔ phones' ports); RTCP and STUN counted apart.
  const media = all.filter((d) => d.sourcePort !== voix.ports.udp && d.destinationPort !== voix.ports.udp);
  const isStun = (d: CapturedDatagram) => d.payload.length >= 20 && d.payload.readUInt32BE(4) === 0x2112a442;
  const isRtcp = (d: CapturedDatagram) => d.payload.length >= 8 && (d.payload[0] ?? 0) >> 6 === 2 && (d.payload[1] ?? 0) >= 200 && (d.payload[1] ?? 0) <= 204;
  const sdpPort = (message: SipOnWire | undefined): number => Number(/^m=audio (\d+)/m.exec(body(message?.text ?? ''))?.[1] ?? 0);
  const answerToAlice = setup.find((m) => m.from === 'V' && m.to === 'L' && /^SIP\/2\.0 200/.test(m.firstLine) && body(m.text).includes('m=audio'));
  const answerFromBernard = setup.find((m) => m.from === 'B' && /^SIP\/2\.0 200/.test(m.firstLine) && body(m.text).includes('m=audio'));
  const mediaName = new Map<number, string>();
  for (const [message, who] of [[invite, 'L'], [answerFromBernard, 'B'], [answerToAlice, 'V'], [legB, 'V']] as const) {
    mediaName.set(sdpPort(message), who); // RTP
    mediaName.set(sdpPort(message) + 1, who); // RTCP, on the next port (RFC 3550 §11)
  }
  const who = (port: number) => mediaName.get(port) ?? '?';
  const flowLines = rtpFlows(media.filter((d) => !isStun(d) && !isRtcp(d))).map((flow) => {
    const pt = flow.packets[0]?.payloadType;
    const codec = pt === 0 ? 'PCMU' : pt === 8 ? 'PCMA' : `PT ${String(pt)}`;
    return { from: who(flow.sourcePort), to: who(flow.destinationPort), text: `RTP ${codec}, ${flow.packets.length} paquets (port ${flow.sourcePort} → ${flow.destinationPort})` };
  });
  const rtcp = media.filter(isRtcp);
  const rtcpLines = [...new Set(rtcp.map((d) => `${who(d.sourcePort)}>${who(d.destinationPort)}`))].map((pair) => {
    const [from = '?', to = '?'] = pair.split('>');
    const packets = rtcp.filter((d) => who(d.sourcePort) === from && who(d.destinationPort) === to);
    const types = [...new Set(packets.map((d) => ({ 200: 'SR', 201: 'RR', 202: 'SDES', 203: 'BYE', 204: 'APP' } as Record<number, string>)[d.payload[1] ?? 0] ?? '?'))];
    return { from, to, text: `RTCP, ${packets.length} paquet(s) ${types.join(', ')}` };
  });
  const stun = media.filter(isStun);
  const stunFrom = [...new Set(stun.map((d) => who(d.sourcePort)))];

  const version = (await voix.cli(['--version'])).stdout.trim();
  const date = new Date(Math.round(origin * 1000)).toISOString().slice(0, 16).replace('T', ' ');
  const lastSetup = setup.length - 1;
  const page = [
    '# Échanges SIP capturés',
    '',
    '> Page générée par `scripts/capture-ladders.ts` à partir d’une capture réelle : ne pas la modifier à la main. Pour la refaire (root, paquets Debian `baresip`, `linphone-cli` et `tshark`) : `npm run build && npx tsx scripts/capture-ladders.ts`.',
    '',
    `Capture du ${date} UTC${version === '' ? '' : ` (${version})`}, sur l’interface de boucle locale : voix, un Linphone (liblinphone 5.1, poste 1001) et un baresip 1.0 (poste 1002), tous en UDP sur 127.0.0.1, démarrés par le harnais des tests de bout en bout. En production, la signalisation passe en TLS et les médias en SRTP : les messages sont les mêmes, mais illisibles sur le réseau ; ici l’UDP en clair permet de les montrer. Les mots de passe, nonces et étiquettes sont des valeurs de test.`,
    '',
    'Chaque diagramme se lit de haut en bas ; les numéros renvoient aux messages complets, sous le diagramme (cliquer pour déplier). Les explications sont dans [SIP](./sip.md) et [SDP, RTP et codecs](./sdp-rtp-codecs.md).',
    '',
    '## Enregistrement avec digest SHA-256 (Linphone)',
    '',
    'Le premier REGISTER n’a pas d’identifiants : voix répond 401 avec deux défis, SHA-256 puis MD5 (le préféré d’abord). Linphone répond au défi SHA-256 ; voix vérifie la réponse et enregistre le contact.',
    '',
    mermaidLadder(participants.filter(([id]) => id !== 'B'), registrations.alice),
    '',
    excerpts(registrations.alice, origin, names),
    '',
    '## Enregistrement avec digest MD5 (baresip)',
    '',
    'baresip 1.0 échoue dès qu’un défi SHA-256 lui est proposé : voix le reconnaît à son en-tête User-Agent (réglage `auth.md5_only_user_agents`) et ne lui propose que MD5.',
    '',
    mermaidLadder(participants.filter(([id]) => id !== 'L'), registrations.bernard),
    '',
    excerpts(registrations.bernard, origin, names),
    '',
    '## Appel et négociation SDP',
    '',
    'voix est un B2BUA : il termine l’appel de Linphone (premier dialogue, son Call-ID) et en crée un second vers baresip (autre Call-ID, autres étiquettes). Le premier INVITE reçoit 407 : voix authentifie l’appelant comme un proxy. Dans l’offre transmise à baresip, voix remplace l’adresse et le port des médias par ceux de son relais ; la réponse de baresip revient à Linphone de la même façon.',
    '',
    mermaidLadder(participants, setup, (index) =>
      index === lastSetup
        ? [
            ...flowLines.map((flow) => `${flow.from}-->>${flow.to}: ${flow.text}`),
            ...rtcpLines.map((flow) => `${flow.from}-->>${flow.to}: ${flow.text}`),
          ]
        : [],
    ),
    '',
    'Les flèches en pointillés sont les flux RTP et RTCP comptés dans la même capture, en six secondes de conversation (ports UDP entre parenthèses) : chaque téléphone n’échange ses médias qu’avec le relais de voix, qui recopie chaque paquet d’une branche à l’autre. RTCP passe sur le port RTP + 1 ; un téléphone n’envoie son premier rapport qu’après quelques secondes (RFC 3550 §6.2).' +
      (stun.length === 0 ? '' : ` La capture contient aussi ${stun.length} requêtes STUN (Binding) envoyées par ${stunFrom.map((w) => names[w as keyof typeof names] ?? w).join(' et ')} vers les ports du relais : des paquets de maintien des associations NAT, que voix ignore.`),
    '',
    excerpts(setup, origin, names),
    '',
    '## Fin de l’appel (BYE)',
    '',
    'Linphone raccroche : BYE dans le premier dialogue, que voix termine (200) et reporte en BYE dans le second.',
    '',
    mermaidLadder(participants, teardown),
    '',
    excerpts(teardown, origin, names),
    '',
    ...(others.length === 0
      ? []
      : [
          '## Autres messages de la capture',
          '',
          'Messages vus pendant la capture en dehors des échanges ci-dessus (mise à jour des enregistrements, sondes des téléphones) :',
          '',
          ...others.map((m) => `- ${names[m.from as keyof typeof names] ?? m.from} → ${names[m.to as keyof typeof names] ?? m.to} : \`${m.firstLine}\``),
          '',
        ]),
  ].join('\n');
  writeFileSync(OUT, `${page.trimEnd()}\n`);
  process.stdout.write(`wrote ${OUT}: ${sip.length} SIP messages, ${flowLines.length} RTP flows, ${rtcp.length} RTCP packets\n`);
}

try {
  await main();
} finally {
  await runCleanups();
}
