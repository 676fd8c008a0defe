/**
 * SRTP throughput: protect and unprotect packets per second on one thread
 * for a 172-byte RTP packet (12-byte header + 160 bytes of G.711, 20 ms),
 * for each crypto path of bench/srtp/variants.ts and for libsrtp2 (C),
 * measured in the same run as the reference. Each JavaScript path runs in
 * its own child process so the JIT of one does not colour another; each
 * first proves it produces libsrtp2's exact bytes for the same packets.
 *
 *   npx tsx bench/srtp.ts [--seconds 1.5] [--rounds 3] [--suite 80|32] [--paths name,name]
 *                         [--order in-order|reversed-8|jump-40] [--json out.json]
 *
 * --order numbers the packets in sequence (the usual case), in blocks of
 * eight sent backwards (late packets), or 40 apart (every packet a jump):
 * the last two are the cases that fall out of voix's keystream batches.
 *
 * Needs gcc and libsrtp2-dev (apt-get install gcc libsrtp2-dev).
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SrtpKeying } from '../src/rtp/media-protocol.js';
import { SrtpSession } from '../src/srtp/srtp-session.js';
import { libsrtpUnavailableReason, libsrtpVersion, runLibsrtpBench, runLibsrtpScript, type PacketOrder } from './srtp/libsrtp-peer.js';
import { VARIANTS, createVariant, isVariantName, type PacketTransform, type VariantName } from './srtp/variants.js';

const PAYLOAD_BYTES = 160;
const PACKET_BYTES = 12 + PAYLOAD_BYTES;
const SSRC = 0x11223344;
/** The same bytes as libsrtp-peer.c's bench key: key || salt. */
const MASTER = Uint8Array.from({ length: 30 }, (_, i) => (i * 7 + 1) & 0xff);
/** Sequence numbers checked against libsrtp2 before timing: the start and a wrap. */
const CHECK_SEQUENCES = [0, 1, 2, 65534, 65535, 0, 1];

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  return value ?? fallback;
}

function keying(suite: 80 | 32): SrtpKeying {
  return {
    suite: suite === 80 ? 'AES_CM_128_HMAC_SHA1_80' : 'AES_CM_128_HMAC_SHA1_32',
    key: MASTER.slice(0, 16),
    salt: MASTER.slice(16, 30),
  };
}

/** The packet libsrtp-peer.c builds: PCMU, SSRC 0x11223344, a fixed payload pattern. */
function makeRtp(sequenceNumber: number): Uint8Array {
  const p = new Uint8Array(PACKET_BYTES);
  p[0] = 0x80;
  p[2] = sequenceNumber >>> 8;
  p[3] = sequenceNumber & 0xff;
  const timestamp = (sequenceNumber * 160) >>> 0;
  p[4] = timestamp >>> 24;
  p[5] = timestamp >>> 16;
  p[6] = timestamp >>> 8;
  p[7] = timestamp;
  p[8] = SSRC >>> 24;
  p[9] = SSRC >>> 16;
  p[10] = SSRC >>> 8;
  p[11] = SSRC;
  for (let i = 0; i < PAYLOAD_BYTES; i++) p[12 + i] = 0xff ^ (i & 0x7f);
  return p;
}

/** The sequence number of the i-th packet sent (libsrtp-peer.c numbers them the same way). */
function sequenceNumberAt(order: PacketOrder, i: number): number {
  if (order === 'reversed-8') return ((i & ~7) | (7 - (i & 7))) & 0xffff;
  if (order === 'jump-40') return (i * 40) & 0xffff;
  return i & 0xffff;
}

function isPacketOrder(text: string): text is PacketOrder {
  return text === 'in-order' || text === 'reversed-8' || text === 'jump-40';
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface ChildRequest {
  readonly variant: VariantName;
  readonly suite: 80 | 32;
  readonly seconds: number;
  readonly rounds: number;
  readonly order: PacketOrder;
  /** libsrtp2's SRTP packets for CHECK_SEQUENCES, in hex. */
  readonly expected: readonly string[];
}

interface ChildResult {
  readonly protect: number[];
  readonly unprotect: number[];
}

/** Fails loudly when the path does not give libsrtp2's bytes, or cannot read them back. */
function checkAgainstLibsrtp(request: ChildRequest): void {
  const k = keying(request.suite);
  const sender = createVariant(request.variant, k);
  const receiver = createVariant(request.variant, k);
  const buf = new Uint8Array(256);
  CHECK_SEQUENCES.forEach((sequenceNumber, i) => {
    const plain = makeRtp(sequenceNumber);
    buf.set(plain);
    const length = sender.protectRtp(buf, PACKET_BYTES);
    const got = length < 0 ? `error ${length}` : hex(buf.subarray(0, length));
    if (got !== request.expected[i]) {
      throw new Error(`${request.variant} differs from libsrtp2 at packet ${i} (seq ${sequenceNumber}): ${got} vs ${request.expected[i]}`);
    }
    const back = receiver.unprotectRtp(buf, length);
    if (back !== PACKET_BYTES || hex(buf.subarray(0, back)) !== hex(plain)) {
      throw new Error(`${request.variant} cannot unprotect its own packet ${i}: ${back}`);
    }
  });
}

function measureProtect(transform: PacketTransform, seconds: number, order: PacketOrder): number {
  const template = makeRtp(0);
  const buf = new Uint8Array(256);
  let sent = 0;
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    for (let i = 0; i < 256; i++) {
      buf.set(template);
      const s = sequenceNumberAt(order, sent++);
      buf[2] = s >>> 8;
      buf[3] = s & 0xff;
      if (transform.protectRtp(buf, PACKET_BYTES) < 0) throw new Error('protect failed');
    }
    count += 256;
    elapsed = performance.now() - start;
  }
  return (count * 1000) / elapsed;
}

/** Packets protected untimed by the shipped session in batches, then unprotected timed, as libsrtp-peer.c does. */
function measureUnprotect(transform: PacketTransform, k: SrtpKeying, seconds: number, order: PacketOrder): number {
  const BATCH = 1024;
  const producer = new SrtpSession(k);
  const template = makeRtp(0);
  const batch = Array.from({ length: BATCH }, () => new Uint8Array(256));
  const lengths = new Int32Array(BATCH);
  let sent = 0;
  let count = 0;
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    for (let i = 0; i < BATCH; i++) {
      const b = batch[i]!;
      b.set(template);
      const s = sequenceNumberAt(order, sent++);
      b[2] = s >>> 8;
      b[3] = s & 0xff;
      lengths[i] = producer.protectRtp(b, PACKET_BYTES);
    }
    const t0 = performance.now();
    for (let i = 0; i < BATCH; i++) {
      if (transform.unprotectRtp(batch[i]!, lengths[i]!) < 0) throw new Error('unprotect failed');
    }
    elapsed += performance.now() - t0;
    count += BATCH;
  }
  return (count * 1000) / elapsed;
}

function runChild(request: ChildRequest): ChildResult {
  checkAgainstLibsrtp(request);
  const k = keying(request.suite);
  // Warm-up so the JIT has compiled the paths before the first round.
  measureProtect(createVariant(request.variant, k), 0.3, request.order);
  measureUnprotect(createVariant(request.variant, k), k, 0.3, request.order);
  const protect: number[] = [];
  const unprotect: number[] = [];
  for (let round = 0; round < request.rounds; round++) {
    protect.push(measureProtect(createVariant(request.variant, k), request.seconds, request.order));
    unprotect.push(measureUnprotect(createVariant(request.variant, k), k, request.seconds, request.order));
  }
  return { protect, unprotect };
}

function inChild(request: ChildRequest): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: ChildResult | null = null;
    child.on('message', (message: { result?: ChildResult; error?: string }) => {
      if (message.error !== undefined) reject(new Error(message.error));
      else if (message.result !== undefined) result = message.result;
    });
    child.on('exit', (code) => {
      if (result !== null) resolve(result);
      else reject(new Error(`${request.variant}: child exited with ${code}`));
    });
    child.send(request);
  });
}

function format(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function main(): Promise<void> {
  const seconds = Number(argument('seconds', '1.5'));
  const rounds = Number(argument('rounds', '3'));
  const suite = argument('suite', '80') === '32' ? 32 : 80;
  const order = argument('order', 'in-order');
  if (!isPacketOrder(order)) throw new Error(`--order must be in-order, reversed-8 or jump-40, not ${order}`);
  const unavailable = libsrtpUnavailableReason();
  if (unavailable !== null) throw new Error(`libsrtp2 is the reference of this bench: ${unavailable}`);

  const k = keying(suite);
  const script = [`session tx ${suite} ${hex(k.key)} ${hex(k.salt)} outbound`];
  for (const sequenceNumber of CHECK_SEQUENCES) script.push(`protect_rtp tx ${hex(makeRtp(sequenceNumber))}`);
  const answers = runLibsrtpScript(script);
  const expected = answers.slice(1).map((line) => (line.startsWith('ok ') ? line.slice(3) : line));

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`SRTP ${k.suite}, RTP packet of ${PACKET_BYTES} bytes, sequence numbers ${order}, one thread, median of ${rounds} rounds of ${seconds} s per path and operation`);
  console.log(`${cpu}, ${os.cpus().length} CPUs; Node ${process.versions.node}, OpenSSL ${process.versions.openssl}; ${libsrtpVersion()}`);
  console.log(`command: npx tsx bench/srtp.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
  console.log('');

  // Rounds go round-robin over the paths, libsrtp2 included, so a slow
  // moment of the machine falls on all of them rather than on one.
  const only = argument('paths', '');
  const names = Object.keys(VARIANTS)
    .filter(isVariantName)
    .filter((name) => only === '' || only.split(',').includes(name));
  const samples = new Map<string, { protect: number[]; unprotect: number[] }>();
  for (const name of [...names, 'libsrtp2']) samples.set(name, { protect: [], unprotect: [] });
  for (let round = 0; round < rounds; round++) {
    const [reference] = runLibsrtpBench(suite, seconds, 1, PAYLOAD_BYTES, order);
    if (reference === undefined) throw new Error('libsrtp-peer printed no result');
    samples.get('libsrtp2')!.protect.push(reference.protect);
    samples.get('libsrtp2')!.unprotect.push(reference.unprotect);
    for (const variant of names) {
      const result = await inChild({ variant, suite, seconds, rounds: 1, order, expected });
      samples.get(variant)!.protect.push(...result.protect);
      samples.get(variant)!.unprotect.push(...result.unprotect);
    }
    process.stderr.write(`  round ${round + 1}/${rounds} done\n`);
  }
  const summary = (name: string): { protect: number; unprotect: number } => {
    const s = samples.get(name)!;
    return { protect: median(s.protect), unprotect: median(s.unprotect) };
  };
  const libsrtp = summary('libsrtp2');
  const rows: { name: string; description: string; protect: number; unprotect: number }[] = names.map((name) => ({
    name,
    description: VARIANTS[name],
    ...summary(name),
  }));
  rows.push({ name: 'libsrtp2', description: `${libsrtpVersion()} (C, gcc -O2), reference`, ...libsrtp });

  console.log('| path | protect pkt/s | × libsrtp2 | unprotect pkt/s | × libsrtp2 |');
  console.log('|---|---:|---:|---:|---:|');
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${format(row.protect)} | ${(row.protect / libsrtp.protect).toFixed(2)} | ${format(row.unprotect)} | ${(row.unprotect / libsrtp.unprotect).toFixed(2)} |`,
    );
  }
  console.log('');
  for (const row of rows) console.log(`- ${row.name}: ${row.description}`);
  console.log('');
  console.log('Every JavaScript path produced libsrtp2\'s bytes for sequence numbers ' + CHECK_SEQUENCES.join(', ') + ' before being timed.');
  const jsonFile = argument('json', '');
  if (jsonFile !== '') {
    const json = {
      bench: 'srtp',
      command: `npx tsx bench/srtp.ts ${process.argv.slice(2).join(' ')}`.trimEnd(),
      machine: `${cpu}, ${os.cpus().length} CPUs`,
      versions: { node: process.versions.node, openssl: process.versions.openssl, libsrtp: libsrtpVersion() },
      suite: k.suite,
      packetBytes: PACKET_BYTES,
      order,
      seconds,
      rounds,
      // Per path: packets/s (median of the rounds, and every round), and the cost per packet as a ratio to libsrtp2's (its rate over the path's).
      paths: rows.map((row) => ({
        ...row,
        samples: samples.get(row.name),
        costVsLibsrtp: { protect: libsrtp.protect / row.protect, unprotect: libsrtp.unprotect / row.unprotect },
      })),
    };
    writeFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`raw data: ${jsonFile}`);
  }
}

if (process.argv.includes('--child')) {
  process.once('message', (request: ChildRequest) => {
    try {
      process.send?.({ result: runChild(request) }, () => process.exit(0));
    } catch (error) {
      process.send?.({ error: error instanceof Error ? error.message : String(error) }, () => process.exit(1));
    }
  });
} else {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
