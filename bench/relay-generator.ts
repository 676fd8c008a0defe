/**
 * Packet generator for bench/relay.ts, in its own process (pinned to
 * another core than the relay): the phones A and B of N calls. Each phone
 * has one connected UDP socket towards its relay leg and sends a 172-byte
 * G.711 packet every 20 ms; the 2N streams are spread evenly over the 20
 * one-millisecond slots of the period and paced by one absolute-deadline
 * loop (ARCHITECTURE.md: never a timer per stream), so the load is steady
 * rather than bursty. The phones count what they receive. Driven over the
 * fork IPC channel.
 */
import dgram from 'node:dgram';

export type GeneratorCommand =
  | { readonly type: 'open'; readonly calls: number }
  | { readonly type: 'connect'; readonly relays: ReadonlyArray<{ readonly a: number; readonly b: number }> }
  | { readonly type: 'run'; readonly seconds: number }
  | { readonly type: 'close' };

export interface GeneratorRunResult {
  readonly type: 'ran';
  readonly streams: number;
  readonly sent: number;
  readonly received: number;
  /** How late the generator sent, against its own schedule (µs): its own pacing error, not the relay's. */
  readonly latenessP50Us: number;
  readonly latenessP99Us: number;
  readonly latenessMaxUs: number;
  /** CPU of the generator process over the run, % of one core. */
  readonly cpuPercent: number;
}

export type GeneratorReply =
  | { readonly type: 'opened'; readonly phones: ReadonlyArray<{ readonly a: number; readonly b: number }> }
  | { readonly type: 'connected' }
  | GeneratorRunResult
  | { readonly type: 'closed' };

const PERIOD_NS = 20_000_000;
const PAYLOAD_BYTES = 160;

class Stream {
  readonly packets = [Buffer.alloc(12 + PAYLOAD_BYTES), Buffer.alloc(12 + PAYLOAD_BYTES)];
  sequenceNumber = 0;
  sent = 0;
  received = 0;

  constructor(
    readonly socket: dgram.Socket,
    readonly ssrc: number,
  ) {
    for (const packet of this.packets) {
      packet[0] = 0x80;
      packet[1] = 0; // PCMU
      packet.writeUInt32BE(ssrc, 8);
      packet.fill(0xff, 12);
    }
    socket.on('message', () => {
      this.received++;
    });
  }

  send(): void {
    // Two buffers in turn: a send that the kernel could not take at once still holds the previous one.
    const packet = this.packets[this.sent & 1];
    if (packet === undefined) return;
    packet.writeUInt16BE(this.sequenceNumber & 0xffff, 2);
    packet.writeUInt32BE((this.sequenceNumber * 160) >>> 0, 4);
    this.socket.send(packet);
    this.sequenceNumber++;
    this.sent++;
  }
}

let streams: Stream[] = [];

async function bindPhone(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket;
}

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** Streams are spread over the 20 ms period in 1 ms slots: stream k sends in slot ⌊20k/S⌋ of each period. */
const SLOT_NS = 1_000_000;
const SLOTS = PERIOD_NS / SLOT_NS;

/**
 * One loop for all streams: at each slot's absolute deadline it sends that
 * slot's packets back to back, then sleeps to the next deadline (a timer
 * for the coarse part, Atomics.wait for the last millisecond), so the
 * generator is asleep rather than spinning between slots.
 */
function run(seconds: number): Promise<GeneratorRunResult> {
  const count = streams.length;
  const periods = Math.round((seconds * 1e9) / PERIOD_NS);
  const lateness = new Float64Array(periods * count);
  const slotStart: number[] = [];
  for (let slot = 0; slot <= SLOTS; slot++) slotStart.push(Math.ceil((slot * count) / SLOTS));
  for (const stream of streams) {
    stream.sent = 0;
    stream.received = 0;
  }
  const cpuBefore = process.cpuUsage();
  const wallBefore = nowNs();
  const start = nowNs() + 20_000_000;
  let index = 0;
  let slotIndex = 0; // over the whole run: period × SLOTS + slot
  const totalSlots = periods * SLOTS;
  return new Promise((resolve) => {
    const finish = (): void => {
      // Let the last packets come back before counting.
      setTimeout(() => {
        const cpu = process.cpuUsage(cpuBefore);
        const wallUs = (nowNs() - wallBefore) / 1000;
        const sorted = lateness.subarray(0, index).sort();
        resolve({
          type: 'ran',
          streams: count,
          sent: streams.reduce((n, s) => n + s.sent, 0),
          received: streams.reduce((n, s) => n + s.received, 0),
          latenessP50Us: percentile(sorted, 0.5),
          latenessP99Us: percentile(sorted, 0.99),
          latenessMaxUs: sorted[sorted.length - 1] ?? 0,
          cpuPercent: (100 * (cpu.user + cpu.system)) / wallUs,
        });
      }, 300);
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
        const slot = slotIndex % SLOTS;
        for (let k = slotStart[slot] ?? 0; k < (slotStart[slot + 1] ?? 0); k++) {
          streams[k]?.send();
          lateness[index++] = (nowNs() - deadline) / 1000;
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
}

async function handle(command: GeneratorCommand): Promise<GeneratorReply> {
  switch (command.type) {
    case 'open': {
      streams = [];
      const phones: Array<{ a: number; b: number }> = [];
      for (let i = 0; i < command.calls; i++) {
        const a = await bindPhone();
        const b = await bindPhone();
        streams.push(new Stream(a, 2 * i + 1), new Stream(b, 2 * i + 2));
        phones.push({ a: a.address().port, b: b.address().port });
      }
      return { type: 'opened', phones };
    }
    case 'connect': {
      await Promise.all(
        command.relays.flatMap((relay, i) => [
          new Promise<void>((resolve) => streams[2 * i]?.socket.connect(relay.a, '127.0.0.1', () => resolve())),
          new Promise<void>((resolve) => streams[2 * i + 1]?.socket.connect(relay.b, '127.0.0.1', () => resolve())),
        ]),
      );
      return { type: 'connected' };
    }
    case 'run':
      return run(command.seconds);
    case 'close':
      await Promise.all(streams.map((s) => new Promise<void>((resolve) => s.socket.close(() => resolve()))));
      streams = [];
      return { type: 'closed' };
  }
}

process.on('message', (command: GeneratorCommand) => {
  void handle(command).then((reply) => process.send?.(reply));
});
