/**
 * SIP parser throughput: messages per second on one core for a ~900-byte
 * INVITE, voix against two JavaScript parsers measured in the same run —
 * the regular-expression parser of the npm package `sip` (kirm/sip.js) and
 * JsSIP's PEG-grammar parser. Each parser gets the input in the form it
 * takes: voix a Buffer (UTF-8 decoding included in its time), the others a
 * string (decoding left out, in their favour).
 *
 *   npm run bench:parser [-- --seconds 3 --rounds 5]
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { parseDatagram } from '../src/sip/parser.js';

const require = createRequire(import.meta.url);
const kirmSip = require('sip') as { parse(text: string): unknown };
const jssipParser = require('jssip/lib/Parser') as { parseMessage(text: string, ua: unknown): unknown };

const SDP = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 49170 RTP/AVP 0 8 9 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');

export const INVITE = [
  'INVITE sip:1002@voix.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: "Bernard Dupont" <sip:1002@voix.example.com>',
  'From: "Alice Martin" <sip:1001@voix.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:1001@192.0.2.10:5060;transport=udp>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY',
  'Supported: replaces, timer, outbound',
  'Session-Expires: 1800;refresher=uac',
  'User-Agent: Linphone/5.1.65 (belle-sip/5.1.0)',
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  '',
  SDP,
].join('\r\n');

interface Contender {
  readonly name: string;
  readonly run: () => unknown;
}

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : Number(process.argv[i + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function measure(contender: Contender, seconds: number): number {
  // Batches between clock reads keep the timing overhead out of the figure.
  const batch = 2000;
  let count = 0;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < batch; i++) contender.run();
    count += batch;
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function main(): void {
  const seconds = argument('seconds', 2);
  const rounds = argument('rounds', 5);
  const bytes = Buffer.from(INVITE, 'utf8');
  const jssipUa = { configuration: {} };
  const contenders: Contender[] = [
    {
      name: 'voix parseDatagram (Buffer)',
      run: () => {
        const r = parseDatagram(bytes);
        if (!r.ok) throw new Error(r.reason);
        return r;
      },
    },
    { name: 'npm sip 0.0.6 parse (string)', run: () => kirmSip.parse(INVITE) },
    { name: 'JsSIP 3 Parser.parseMessage (string)', run: () => jssipParser.parseMessage(INVITE, jssipUa) },
  ];
  for (const c of contenders) {
    if (c.run() === undefined) throw new Error(`${c.name} did not parse the message`);
    measure(c, 0.5); // warm-up
  }
  const results = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    // Interleaved rounds so that machine noise hits every parser alike.
    for (const c of contenders) results.get(c.name)?.push(measure(c, seconds));
  }
  const voix = median(results.get(contenders[0]!.name) ?? []);
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`command: npm run bench:parser -- --seconds ${seconds} --rounds ${rounds}`);
  console.log(`machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, one thread`);
  console.log(`message: INVITE with SDP, ${bytes.length} bytes`);
  console.log('');
  console.log('parser                                   median msg/s   voix/parser');
  for (const c of contenders) {
    const m = median(results.get(c.name) ?? []);
    console.log(`${c.name.padEnd(40)} ${Math.round(m).toString().padStart(12)}   ${(voix / m).toFixed(2).padStart(8)}`);
  }
  console.log('');
  console.log(`target: >= 150000 msg/s for voix: ${voix >= 150_000 ? 'met' : 'NOT met'}`);
}

main();
