/**
 * Packet generator for bench/relay.ts, in its own process (pinned to
 * another core than the relay): the phones A and B of N calls. Each phone
 * has one connected UDP socket towards its relay leg and sends a 172-byte
 * G.711 packet every 20 ms; the 2N streams are spread evenly over the 20
 * one-millisecond slots of the period and paced by one absolute-deadline
 * loop (ARCHITECTURE.md: never a timer per stream), so the load is steady
 * rather than bursty. Driven over the fork IPC channel.
 *
 * Only the phones of one call in `listenEvery` read what they receive (and
 * count it per SSRC; the measured part by RTP timestamp, which every relay
 * keeps, and the SRTP checks without the SSRC for a relay that rewrites it);
 * they are bound to even ports of SAMPLED_PHONE_PORT_MIN–MAX, the range the
 * benchmark captures. The others stop reading their socket (the kernel
 * queues, then drops, as for a phone that is slow to read): the receiving
 * side is measured from the capture, and reading everything would cost the
 * generator as much as sending it.
 *
 * With SRTP, each phone protects what it sends with the key it "gave" voix
 * (its leg's inbound key: 172 + 10 bytes on the wire, AES_CM_128_HMAC_SHA1_80),
 * and checks one received packet in `checkEvery` with the key voix gave it
 * (its leg's outbound key): the packet must authenticate and decrypt to the
 * payload that was sent. The protect is done in the send loop, so its cost
 * shows in the generator's lateness and CPU like the rest.
 *
 * With `blaster` (bench/relay.ts --blaster), the phones that do not listen
 * do not send either: bench/relay-blaster.c (C, libsrtp2, one sendmmsg per
 * slot from one socket) sends their streams on the same schedule, started
 * at the same absolute monotonic time. A Node socket send costs the
 * generator about as much as the relay's own per-packet work, so without it
 * a relay on both cores cannot be offered its load on a two-core machine.
 * The result then adds the blaster's sent packets and CPU to the
 * generator's, and its lateness (per slot rather than per send).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { SrtpSuite } from '../src/rtp/media-protocol.js';
import { SrtpSession } from '../src/srtp/srtp-session.js';
import { libsrtpToolBinary } from './srtp/libsrtp-peer.js';
import { SAMPLED_PHONE_PORT_MAX, SAMPLED_PHONE_PORT_MIN } from './relay-under-test.js';

/** An SDES master key over the IPC channel (JSON): hex strings. */
export interface WireKeying {
  readonly suite: SrtpSuite;
  readonly key: string;
  readonly salt: string;
}

/** The keys of one call for its two phones: what each protects with (`send`) and checks with (`receive`). */
export interface CallKeys {
  readonly aSend: WireKeying;
  readonly aReceive: WireKeying;
  readonly bSend: WireKeying;
  readonly bReceive: WireKeying;
}

export type GeneratorCommand =
  /** Opens the phones of `calls` calls; those of call i with i % sampleEvery === 0 on SAMPLED_PHONE_PORT_MIN–MAX. */
  | { readonly type: 'open'; readonly calls: number; readonly sampleEvery?: number }
  | {
      readonly type: 'connect';
      readonly relays: ReadonlyArray<{ readonly a: number; readonly b: number; readonly keys?: CallKeys }>;
      readonly checkEvery?: number;
      /** The phones of call i read what they receive when i % listenEvery === 0; default 1 (all). */
      readonly listenEvery?: number;
      /** The other calls' streams are sent by bench/relay-blaster.c instead of these phones. */
      readonly blaster?: boolean;
      /** SRTP checks also check that the relay kept the sender's SSRC (not for relays that rewrite it). */
      readonly checkSsrc?: boolean;
    }
  /** Sends for `warmupPeriods` × 20 ms, says 'warm', then for `seconds` more: only those are counted (see run()). */
  | { readonly type: 'run'; readonly seconds: number; readonly warmupPeriods: number }
  | { readonly type: 'close' };

export interface GeneratorRunResult {
  readonly type: 'ran';
  readonly streams: number;
  readonly sent: number;
  /** What the listening phones received, and what their peers sent them. */
  readonly received: number;
  readonly sentToListening: number;
  /** Packets received by the listening phones, per SSRC (their peer's stream). */
  readonly receivedBySsrc: ReadonlyArray<readonly [number, number]>;
  /** How late the generator sent, against its own schedule (µs): its own pacing error, not the relay's. */
  readonly latenessMeanUs: number;
  readonly latenessP50Us: number;
  readonly latenessP99Us: number;
  readonly latenessMaxUs: number;
  /** Lateness of the last send: how far behind the run ended, i.e. how much longer than planned it took to send it all. */
  readonly latenessLastUs: number;
  /** CPU of the generator process over the run, % of one core. */
  readonly cpuPercent: number;
  /** SRTP: received packets checked (unprotected with voix's outbound key) and those that failed. */
  readonly checked: number;
  readonly checkFailed: number;
  /** Of `sent`, those the blaster sent (0 without it). */
  readonly blasterSent: number;
}

export type GeneratorReply =
  | { readonly type: 'opened'; readonly phones: ReadonlyArray<{ readonly a: number; readonly b: number }> }
  | { readonly type: 'connected' }
  /** During 'run': the warm-up is over, the measured part starts now. */
  | { readonly type: 'warm' }
  | GeneratorRunResult
  | { readonly type: 'closed' };

const PERIOD_NS = 20_000_000;
const PAYLOAD_BYTES = 160;

const RTP_BYTES = 12 + PAYLOAD_BYTES;
/** Room for the SRTP tag after the packet. */
const SRTP_TAG_BYTES = 10;

function keying(wire: WireKeying): SrtpSession {
  return new SrtpSession({ suite: wire.suite, key: Buffer.from(wire.key, 'hex'), salt: Buffer.from(wire.salt, 'hex') });
}

class Stream {
  readonly packets = [Buffer.alloc(RTP_BYTES + SRTP_TAG_BYTES), Buffer.alloc(RTP_BYTES + SRTP_TAG_BYTES)];
  sequenceNumber = 0;
  /**
   * The first sequence number of the measured part of a run: the stream
   * sends one packet per period from 0, so sequence number n is period n
   * and the warm-up is 0 to measureFrom − 1. Only the measured packets are
   * counted, here and in the capture.
   */
  measureFrom = 0;
  sent = 0;
  received = 0;
  checked = 0;
  checkFailed = 0;
  /** SRTP: protects what this phone sends, and checks what it receives (null: plain RTP). */
  protect: SrtpSession | null = null;
  check: SrtpSession | null = null;
  checkEvery = 0;
  checkSsrc = true;
  /** What this phone receives: its peer's stream (phones A and B of call i send 2i + 1 and 2i + 2). */
  readonly peerSsrc: number;
  peer: Stream | null = null;
  listening = true;
  /** Sent by the blaster, not by this phone: the key it protects with (hex key || salt), or '-' for plain RTP. */
  blastedWith: string | null = null;
  /** The relay port this phone sends to. */
  relayPort = 0;

  constructor(
    readonly socket: dgram.Socket,
    readonly ssrc: number,
  ) {
    this.peerSsrc = ssrc % 2 === 1 ? ssrc + 1 : ssrc - 1;
    for (const packet of this.packets) {
      packet[0] = 0x80;
      packet[1] = 0; // PCMU
      packet.writeUInt32BE(ssrc, 8);
      packet.fill(0xff, 12, RTP_BYTES);
    }
    socket.on('message', (message: Buffer) => {
      // Period n carries timestamp 160 n (send()): unlike the sequence number, relays that rewrite the header keep it.
      if (message.length < 12 || message.readUInt32BE(4) < this.measureFrom * 160) return;
      this.received++;
      const check = this.check;
      if (check !== null && this.received % this.checkEvery === 0) {
        const length = check.unprotectRtp(message, message.length);
        let ok = length === RTP_BYTES && (!this.checkSsrc || message.readUInt32BE(8) === this.peerSsrc);
        for (let i = 12; ok && i < RTP_BYTES; i++) ok = message[i] === 0xff;
        this.checked++;
        if (!ok) this.checkFailed++;
      }
    });
  }

  send(): void {
    // Two buffers in turn: a send that the kernel could not take at once still holds the previous one.
    const packet = this.packets[this.sequenceNumber & 1];
    if (packet === undefined) return;
    packet.writeUInt16BE(this.sequenceNumber & 0xffff, 2);
    packet.writeUInt32BE((this.sequenceNumber * 160) >>> 0, 4);
    let length = RTP_BYTES;
    if (this.protect !== null) {
      // Protect encrypts in place: the payload is written again each time.
      packet.fill(0xff, 12, RTP_BYTES);
      length = this.protect.protectRtp(packet, RTP_BYTES);
    }
    this.socket.send(packet, 0, length);
    if (this.sequenceNumber >= this.measureFrom) this.sent++;
    this.sequenceNumber++;
  }

  /** Before a run: numbering from 0 again, counters at 0, the warm-up's length. */
  reset(measureFrom: number): void {
    this.sequenceNumber = 0;
    this.measureFrom = measureFrom;
    this.sent = 0;
    this.received = 0;
    this.checked = 0;
    this.checkFailed = 0;
  }
}

let streams: Stream[] = [];

/**
 * Stops libuv reading a phone's socket. dgram has no public way to do it:
 * this reaches the UDP handle through the socket's internal state (Node 20:
 * the `state symbol` property); where it is not found the phone keeps
 * reading and counting, which only costs the generator more.
 */
function stopReading(stream: Stream): void {
  const socket = stream.socket as unknown as Record<symbol, { handle?: { recvStop?: () => number } } | undefined>;
  const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const handle = symbol === undefined ? undefined : socket[symbol]?.handle;
  if (handle?.recvStop === undefined) return;
  handle.recvStop();
  stream.listening = false;
}

/** A phone's socket on 127.0.0.1: on `port`, or a port the kernel picks (0); rejects when the port is taken. */
async function bindPhone(port = 0): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

let nextSampledPort = SAMPLED_PHONE_PORT_MIN;

/** A sampled phone's socket: the next free even port of the sampled range. */
async function bindSampledPhone(): Promise<dgram.Socket> {
  for (; nextSampledPort <= SAMPLED_PHONE_PORT_MAX; nextSampledPort += 2) {
    const socket = await bindPhone(nextSampledPort).catch(() => null);
    if (socket !== null) {
      nextSampledPort += 2;
      return socket;
    }
  }
  throw new Error(`no free port left for sampled phones in ${SAMPLED_PHONE_PORT_MIN}-${SAMPLED_PHONE_PORT_MAX}: sample fewer calls (--sample-every)`);
}

/** Monotonic clock in ns, as a double (performance.now() has µs resolution here, and allocates nothing, unlike hrtime.bigint). */
function nowNs(): number {
  return performance.now() * 1e6;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** Streams are spread over the 20 ms period in 1 ms slots: stream k sends in slot ⌊20k/S⌋ of each period. */
const SLOT_NS = 1_000_000;
const SLOTS = PERIOD_NS / SLOT_NS;

/** Sequence numbers are 16 bits: a run numbers its periods from 0 and must not wrap (about 21 minutes). */
const MAX_PERIODS = 65536;

/**
 * One loop for all streams: at each slot's absolute deadline it sends that
 * slot's packets back to back, then sleeps to the next deadline (a timer
 * for the coarse part, Atomics.wait for the last millisecond), so the
 * generator is asleep rather than spinning between slots.
 *
 * The run starts with `warmupPeriods` of traffic that is not counted: all
 * the streams start within the same 20 ms, so the relay's first packets of
 * every stream (its per-stream state, SRTP's first keystream batches, the
 * JIT) come at once, which calls that start over time never do. At the end
 * of the warm-up the generator tells the benchmark ('warm'), which starts
 * its CPU measures then; the capture leaves the warm-up out by sequence
 * number (Stream.measureFrom).
 */
async function run(seconds: number, warmupPeriods: number): Promise<GeneratorRunResult> {
  const count = streams.length;
  const periods = warmupPeriods + Math.round((seconds * 1e9) / PERIOD_NS);
  if (periods > MAX_PERIODS) throw new Error(`a run of ${periods} periods would wrap the RTP sequence numbers`);
  const lateness = new Float64Array((periods - warmupPeriods) * count);
  const slotStart: number[] = [];
  for (let slot = 0; slot <= SLOTS; slot++) slotStart.push(Math.ceil((slot * count) / SLOTS));
  for (const stream of streams) stream.reset(warmupPeriods);
  let cpuBefore = process.cpuUsage();
  let wallBefore = nowNs();
  // The same instant on both clocks: performance.now() for this loop, CLOCK_MONOTONIC (hrtime) for the blaster.
  const leadNs = 200_000_000;
  const start = nowNs() + leadNs;
  const blaster = await startBlaster(process.hrtime.bigint() + BigInt(leadNs), periods, warmupPeriods, slotStart);
  let index = 0;
  let slotIndex = 0; // over the whole run: period × SLOTS + slot
  const measuredFromSlot = warmupPeriods * SLOTS;
  const totalSlots = periods * SLOTS;
  const ownRun = new Promise<GeneratorRunResult>((resolve) => {
    const finish = (): void => {
      // Let the last packets come back before counting.
      setTimeout(() => resolve(summarise(lateness.subarray(0, index), process.cpuUsage(cpuBefore), (nowNs() - wallBefore) / 1000)), 300);
    };
    const pump = (): void => {
      let now = nowNs();
      while (slotIndex < totalSlots) {
        const deadline = start + slotIndex * SLOT_NS;
        if (deadline > now) {
          const wait = deadline - now;
          if (wait > 2_000_000) {
            setTimeout(pump, Math.floor(wait / 1e6) - 1);
            return;
          }
          Atomics.wait(sleeper, 0, 0, wait / 1e6);
          now = nowNs();
          continue;
        }
        if (slotIndex === measuredFromSlot) {
          process.send?.({ type: 'warm' } satisfies GeneratorReply);
          cpuBefore = process.cpuUsage();
          wallBefore = nowNs();
        }
        const measured = slotIndex >= measuredFromSlot;
        const slot = slotIndex % SLOTS;
        for (let k = slotStart[slot] ?? 0; k < (slotStart[slot + 1] ?? 0); k++) {
          const stream = streams[k];
          if (stream === undefined || stream.blastedWith !== null) continue;
          stream.send();
          if (measured) lateness[index++] = (nowNs() - deadline) / 1000;
        }
        slotIndex++;
        // Between slots, let received packets be counted.
        setImmediate(pump);
        return;
      }
      finish();
    };
    pump();
  });
  const own = await ownRun;
  return blaster === null ? own : withBlaster(own, await blaster.result());
}

interface BlasterResult {
  readonly sent: number;
  readonly latenessMeanUs: number;
  readonly latenessP99Us: number;
  readonly latenessMaxUs: number;
  readonly latenessLastUs: number;
  readonly cpuUs: number;
  readonly wallUs: number;
}

const BLASTER_SOURCE = fileURLToPath(new URL('./relay-blaster.c', import.meta.url));

/**
 * Starts bench/relay-blaster.c with the blasted streams (slot, relay port,
 * SSRC, key), sending from `startNs` (CLOCK_MONOTONIC) on; null when no
 * stream is blasted. Resolves once its socket is bound.
 */
async function startBlaster(
  startNs: bigint,
  periods: number,
  warmupPeriods: number,
  slotStart: readonly number[],
): Promise<{ result(): Promise<BlasterResult> } | null> {
  const lines: string[] = [];
  for (let slot = 0; slot < SLOTS; slot++) {
    for (let k = slotStart[slot] ?? 0; k < (slotStart[slot + 1] ?? 0); k++) {
      const stream = streams[k];
      if (stream === undefined || stream.blastedWith === null) continue;
      lines.push(`${slot} ${stream.relayPort} ${stream.ssrc} ${stream.blastedWith}`);
    }
  }
  if (lines.length === 0) return null;
  const child: ChildProcessWithoutNullStreams = spawn(libsrtpToolBinary(BLASTER_SOURCE), [], { stdio: 'pipe' });
  let output = '';
  let errors = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const exited = once(child, 'exit');
  child.stdin.end(`${startNs} ${periods} ${warmupPeriods} ${lines.length}\n${lines.join('\n')}\n`);
  while (!output.includes('\n')) {
    if (child.exitCode !== null) throw new Error(`relay-blaster ended before it was ready: ${errors}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return {
    async result(): Promise<BlasterResult> {
      const [code] = (await exited) as [number | null];
      const last = output.trim().split('\n').pop() ?? '';
      const fields = last.split(' ').map(Number);
      if (code !== 0 || fields.length !== 6 || fields.some((f) => !Number.isFinite(f))) {
        throw new Error(`relay-blaster failed (exit ${String(code)}): ${errors || last}`);
      }
      const [sent, mean, p99, max, lastLate, cpuUs] = fields as [number, number, number, number, number, number];
      const wallUs = ((periods - warmupPeriods) * PERIOD_NS) / 1000;
      return { sent, latenessMeanUs: mean, latenessP99Us: p99, latenessMaxUs: max, latenessLastUs: lastLate, cpuUs, wallUs };
    },
  };
}

/** The generator's own result with the blaster's packets, CPU and lateness added (lateness: worst of the two, mean weighted by packets). */
function withBlaster(own: GeneratorRunResult, blaster: BlasterResult): GeneratorRunResult {
  const sent = own.sent + blaster.sent;
  return {
    ...own,
    sent,
    blasterSent: blaster.sent,
    latenessMeanUs: sent === 0 ? 0 : (own.latenessMeanUs * own.sent + blaster.latenessMeanUs * blaster.sent) / sent,
    latenessP99Us: Math.max(own.latenessP99Us, blaster.latenessP99Us),
    latenessMaxUs: Math.max(own.latenessMaxUs, blaster.latenessMaxUs),
    latenessLastUs: Math.max(own.latenessLastUs, blaster.latenessLastUs),
    cpuPercent: own.cpuPercent + (100 * blaster.cpuUs) / blaster.wallUs,
  };
}

/** The measured part of a run, from the streams' counters, the lateness of each send (µs) and the CPU time used meanwhile. */
function summarise(lateness: Float64Array, cpu: NodeJS.CpuUsage, wallUs: number): GeneratorRunResult {
  const latenessLastUs = lateness[lateness.length - 1] ?? 0;
  const sorted = lateness.sort();
  let total = 0;
  for (const late of sorted) total += late;
  return {
    type: 'ran',
    streams: streams.length,
    sent: streams.reduce((n, s) => n + s.sent, 0),
    received: streams.reduce((n, s) => n + s.received, 0),
    sentToListening: streams.reduce((n, s) => n + (s.listening ? (s.peer?.sent ?? 0) : 0), 0),
    receivedBySsrc: streams.filter((s) => s.listening).map((s) => [s.peerSsrc, s.received] as const),
    latenessMeanUs: total / Math.max(1, sorted.length),
    latenessP50Us: percentile(sorted, 0.5),
    latenessP99Us: percentile(sorted, 0.99),
    latenessMaxUs: sorted[sorted.length - 1] ?? 0,
    latenessLastUs,
    cpuPercent: (100 * (cpu.user + cpu.system)) / wallUs,
    checked: streams.reduce((n, s) => n + s.checked, 0),
    checkFailed: streams.reduce((n, s) => n + s.checkFailed, 0),
    blasterSent: 0,
  };
}

async function handle(command: GeneratorCommand): Promise<GeneratorReply> {
  switch (command.type) {
    case 'open': {
      streams = [];
      nextSampledPort = SAMPLED_PHONE_PORT_MIN;
      const sampleEvery = Math.max(1, command.sampleEvery ?? 1);
      const phones: Array<{ a: number; b: number }> = [];
      for (let i = 0; i < command.calls; i++) {
        const sampled = i % sampleEvery === 0;
        const a = sampled ? await bindSampledPhone() : await bindPhone();
        const b = sampled ? await bindSampledPhone() : await bindPhone();
        streams.push(new Stream(a, 2 * i + 1), new Stream(b, 2 * i + 2));
        phones.push({ a: a.address().port, b: b.address().port });
      }
      return { type: 'opened', phones };
    }
    case 'connect': {
      const listenEvery = Math.max(1, command.listenEvery ?? 1);
      command.relays.forEach((relay, i) => {
        const a = streams[2 * i];
        const b = streams[2 * i + 1];
        if (a === undefined || b === undefined) return;
        a.peer = b;
        b.peer = a;
        a.relayPort = relay.a;
        b.relayPort = relay.b;
        if (i % listenEvery !== 0) {
          stopReading(a);
          stopReading(b);
          if (command.blaster === true) {
            a.blastedWith = relay.keys === undefined ? '-' : relay.keys.aSend.key + relay.keys.aSend.salt;
            b.blastedWith = relay.keys === undefined ? '-' : relay.keys.bSend.key + relay.keys.bSend.salt;
          }
        }
        if (relay.keys === undefined) return;
        a.protect = keying(relay.keys.aSend);
        a.check = keying(relay.keys.aReceive);
        b.protect = keying(relay.keys.bSend);
        b.check = keying(relay.keys.bReceive);
        a.checkEvery = b.checkEvery = Math.max(1, command.checkEvery ?? 10);
        a.checkSsrc = b.checkSsrc = command.checkSsrc !== false;
      });
      await Promise.all(
        command.relays.flatMap((relay, i) => [
          new Promise<void>((resolve) => streams[2 * i]?.socket.connect(relay.a, '127.0.0.1', () => resolve())),
          new Promise<void>((resolve) => streams[2 * i + 1]?.socket.connect(relay.b, '127.0.0.1', () => resolve())),
        ]),
      );
      return { type: 'connected' };
    }
    case 'run':
      return run(command.seconds, command.warmupPeriods);
    case 'close':
      await Promise.all(streams.map((s) => new Promise<void>((resolve) => s.socket.close(() => resolve()))));
      streams = [];
      return { type: 'closed' };
  }
}

// The benchmark is gone (ended, killed): so is its generator.
process.on('disconnect', () => process.exit(0));

process.on('message', (command: GeneratorCommand) => {
  void handle(command).then((reply) => process.send?.(reply));
});
