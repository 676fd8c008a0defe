/**
 * Kernel timestamps for bench/relay.ts (TESTING.md: measure media timing
 * from captures on the receiving side, never from a sender's own clock):
 * dumpcap on the loopback interface, then each RTP packet that left the
 * relay is matched with the one that entered it, and the streams are timed.
 *
 * Matching: a packet that enters the relay on port P (ingress) leaves it
 * from P's partner Q, the other leg of the same relay (egress), with the
 * same SSRC and sequence number (the relay rewrites neither, and SRTP leaves
 * the header in clear); or, for a relay that rewrites both but keeps RTP
 * timestamps (Asterisk when it bridges through its core, e.g. with SRTP),
 * with the same timestamp (matchBy 'timestamp'). With the bench's own generator every stream has its
 * own SSRC and the partners are known. Behind SIPp every call plays the
 * same pcap (same SSRC, same sequence numbers), so the partners are learned
 * from the capture first: each ingress packet votes for the relay port its
 * SSRC and sequence number leave from next, and the ports are paired by
 * the most votes both ways (a relay is a pair of legs).
 *
 * What is measured, per matched packet and per stream:
 * - added delay: egress time − ingress time (µs);
 * - RFC 3550 interarrival jitter (§6.4.1, A.8), J += (|D| − J) / 16 with
 *   D the difference between arrival spacing and RTP timestamp spacing, of
 *   each stream as it arrives at the relay (ingress: the generator's own
 *   pacing) and as it leaves it towards the receiving phone (egress: what
 *   that phone would report); the figure is the mean of J over the
 *   stream's packets, then the mean (and max) over streams;
 * - added jitter: the same estimator with the ingress time in place of the
 *   RTP timestamp, i.e. over the differences of consecutive added delays:
 *   the jitter the relay itself adds, whatever the sender's pacing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { killOnExit } from './relay-machine.js';

export function captureAvailable(): boolean {
  return spawnSync('dumpcap', ['--version']).status === 0 && process.getuid?.() === 0;
}

export interface Capture {
  readonly pid: number | undefined;
  /** Stops dumpcap; resolves with the packets it says the kernel dropped before it could read them. */
  stop(): Promise<number>;
}

/** Starts dumpcap on `lo` with a capture filter (pcap-filter(7)), `snapLength` bytes per packet (64: RTP headers); resolves once it captures. */
export function startCapture(file: string, filter: string, pinned: (args: string[]) => [string, string[]], snapLength = 64): Promise<Capture> {
  const [command, args] = pinned(['dumpcap', '-i', 'lo', '-f', filter, '-s', String(snapLength), '-B', '256', '-P', '-w', file]);
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child);
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Capturing on')) {
        resolve({
          pid: child.pid,
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => {
                // "Packets received/dropped on interface 'lo': 812345/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0)"
                const match = /received\/dropped on interface '[^']*': (\d+)\/(\d+)/.exec(stderr);
                done(match ? Number(match[2]) : Number.NaN);
              });
              child.kill('SIGINT');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`dumpcap exited (${code}): ${stderr.trim()}`)));
  });
}

/** One RTP packet of the capture, towards (ingress) or from (egress) a relay port. */
interface Packets {
  count: number;
  timeUs: Float64Array;
  /** The relay's port: destination of an ingress packet, source of an egress one. */
  relayPort: Uint16Array;
  ssrc: Uint32Array;
  sequence: Uint16Array;
  timestamp: Uint32Array;
  egress: Uint8Array;
}

/**
 * Each RTP packet (version 2; RTCP left out, RFC 5761 §4) of a classic
 * little-endian pcap of Ethernet frames, as dumpcap -P writes on lo: its
 * capture time (µs since the epoch), UDP ports and the offset of its RTP
 * header in `data`.
 */
export function forEachRtpRecord(file: string, visit: (timeUs: number, sourcePort: number, destinationPort: number, rtp: number, data: Buffer) => void): void {
  const data = readFileSync(file);
  const magic = data.readUInt32LE(0);
  const nano = magic === 0xa1b23c4d;
  if (magic !== 0xa1b2c3d4 && !nano) throw new Error(`${file}: not a little-endian pcap file`);
  const linkType = data.readUInt32LE(20);
  if (linkType !== 1) throw new Error(`${file}: link type ${linkType}, expected Ethernet (1)`);
  for (let offset = 24; offset + 16 <= data.length; ) {
    const seconds = data.readUInt32LE(offset);
    const fraction = data.readUInt32LE(offset + 4);
    const captured = data.readUInt32LE(offset + 8);
    const frame = offset + 16;
    offset = frame + captured;
    if (offset > data.length) break;
    if (captured < 14 + 20 + 8 + 12 || data.readUInt16BE(frame + 12) !== 0x0800) continue;
    const ip = frame + 14;
    if (data.readUInt8(ip + 9) !== 17) continue;
    const udp = ip + (data.readUInt8(ip) & 0x0f) * 4;
    const rtp = udp + 8;
    if (rtp + 12 > frame + captured || data.readUInt8(rtp) >>> 6 !== 2) continue;
    // RTCP (RFC 5761 §4: second byte 192–223) travels on the odd ports; keep RTP only.
    const second = data.readUInt8(rtp + 1);
    if (second >= 192 && second <= 223) continue;
    visit(seconds * 1e6 + (nano ? fraction / 1000 : fraction), data.readUInt16BE(udp), data.readUInt16BE(udp + 2), rtp, data);
  }
}

function readPackets(file: string, isRelayPort: (port: number) => boolean): Packets {
  // Each record is at least 16 + 54 bytes.
  const capacity = Math.ceil(statSync(file).size / 70) + 1;
  const p: Packets = {
    count: 0,
    timeUs: new Float64Array(capacity),
    relayPort: new Uint16Array(capacity),
    ssrc: new Uint32Array(capacity),
    sequence: new Uint16Array(capacity),
    timestamp: new Uint32Array(capacity),
    egress: new Uint8Array(capacity),
  };
  forEachRtpRecord(file, (timeUs, sourcePort, destinationPort, rtp, data) => {
    const fromRelay = isRelayPort(sourcePort);
    const toRelay = isRelayPort(destinationPort);
    if (fromRelay === toRelay) return;
    const i = p.count++;
    p.timeUs[i] = timeUs;
    p.relayPort[i] = fromRelay ? sourcePort : destinationPort;
    p.ssrc[i] = data.readUInt32BE(rtp + 8);
    p.sequence[i] = data.readUInt16BE(rtp + 2);
    p.timestamp[i] = data.readUInt32BE(rtp + 4);
    p.egress[i] = fromRelay ? 1 : 0;
  });
  return p;
}

/** Index of the first element of the sorted `times` (indices into timeUs) at or after t. */
function firstAtOrAfter(indices: number[], timeUs: Float64Array, t: number): number {
  let lo = 0;
  let hi = indices.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((timeUs[indices[mid] ?? 0] ?? 0) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Pairs the relay ports from the traffic: each ingress packet votes for the
 * port its SSRC and sequence number leave from next (within 200 ms); a pair
 * scores the votes both ways, and pairs are taken greedily by score, each
 * port in one pair only.
 */
export function learnPartners(p: Packets): Map<number, number> {
  const egressByKey = new Map<number, number[]>();
  for (let i = 0; i < p.count; i++) {
    if (p.egress[i] !== 1) continue;
    const key = (p.ssrc[i] ?? 0) * 65536 + (p.sequence[i] ?? 0);
    let list = egressByKey.get(key);
    if (list === undefined) egressByKey.set(key, (list = []));
    list.push(i);
  }
  for (const list of egressByKey.values()) list.sort((x, y) => (p.timeUs[x] ?? 0) - (p.timeUs[y] ?? 0));
  const votes = new Map<number, number>();
  for (let i = 0; i < p.count; i++) {
    if (p.egress[i] !== 0) continue;
    const list = egressByKey.get((p.ssrc[i] ?? 0) * 65536 + (p.sequence[i] ?? 0));
    if (list === undefined) continue;
    const t = p.timeUs[i] ?? 0;
    const j = list[firstAtOrAfter(list, p.timeUs, t)];
    if (j === undefined || (p.timeUs[j] ?? 0) - t > 200_000) continue;
    const from = p.relayPort[i] ?? 0;
    const to = p.relayPort[j] ?? 0;
    if (from === to) continue;
    const pair = Math.min(from, to) * 65536 + Math.max(from, to);
    votes.set(pair, (votes.get(pair) ?? 0) + 1);
  }
  const partners = new Map<number, number>();
  for (const [pair] of [...votes].sort((x, y) => y[1] - x[1])) {
    const low = Math.floor(pair / 65536);
    const high = pair % 65536;
    if (partners.has(low) || partners.has(high)) continue;
    partners.set(low, high);
    partners.set(high, low);
  }
  return partners;
}

export interface StreamJitter {
  /** Streams with at least two packets. */
  readonly streams: number;
  /** Mean over streams of each stream's mean J (ms). */
  readonly meanMs: number;
  /** The stream with the highest mean J (ms). */
  readonly maxMs: number;
}

/** RFC 3550 A.8 per stream, arrival times in µs, 8 kHz RTP clock (G.711). */
class JitterAccumulator {
  private readonly streams = new Map<number, { lastArrivalUs: number; lastTimestamp: number; j: number; sum: number; n: number }>();

  add(stream: number, arrivalUs: number, rtpTimestamp: number, clockRate = 8000): void {
    const s = this.streams.get(stream);
    if (s === undefined) {
      this.streams.set(stream, { lastArrivalUs: arrivalUs, lastTimestamp: rtpTimestamp, j: 0, sum: 0, n: 0 });
      return;
    }
    const d = ((arrivalUs - s.lastArrivalUs) * clockRate) / 1e6 - ((rtpTimestamp - s.lastTimestamp) | 0);
    s.j += (Math.abs(d) - s.j) / 16;
    s.sum += s.j;
    s.n++;
    s.lastArrivalUs = arrivalUs;
    s.lastTimestamp = rtpTimestamp;
  }

  /** Same estimator over a value already in µs (the added delay): D is the difference of consecutive values. */
  addDelay(stream: number, delayUs: number): void {
    const s = this.streams.get(stream);
    if (s === undefined) {
      this.streams.set(stream, { lastArrivalUs: delayUs, lastTimestamp: 0, j: 0, sum: 0, n: 0 });
      return;
    }
    s.j += ((Math.abs(delayUs - s.lastArrivalUs) * 8000) / 1e6 - s.j) / 16; // in 8 kHz units, like the others
    s.sum += s.j;
    s.n++;
    s.lastArrivalUs = delayUs;
  }

  result(clockRate = 8000): StreamJitter {
    let streams = 0;
    let total = 0;
    let max = 0;
    for (const s of this.streams.values()) {
      if (s.n === 0) continue;
      const meanMs = ((s.sum / s.n) * 1000) / clockRate;
      streams++;
      total += meanMs;
      max = Math.max(max, meanMs);
    }
    return { streams, meanMs: streams === 0 ? Number.NaN : total / streams, maxMs: streams === 0 ? Number.NaN : max };
  }
}

export interface RelayTiming {
  /** Ingress packets counted (inside the window). */
  readonly ingress: number;
  readonly egress: number;
  /** Ingress packets never seen leaving (those on unpaired ports included). */
  readonly unmatched: number;
  /** egress − ingress per matched packet, µs, sorted. */
  readonly delaysUs: Float64Array;
  /** RFC 3550 jitter of the streams entering the relay (the sender's pacing, as the kernel saw it). */
  readonly jitterIn: StreamJitter;
  /** RFC 3550 jitter of the streams leaving the relay (what the receiving phones see). */
  readonly jitterOut: StreamJitter;
  /** The jitter the relay adds: RFC 3550's estimator over consecutive added delays. */
  readonly jitterAdded: StreamJitter;
  /** Matched packets leaving the relay, per SSRC. */
  readonly egressBySsrc: ReadonlyMap<number, number>;
  /** Ingress streams (relay port + SSRC) seen in the window. */
  readonly ingressStreams: number;
  /** Relay ports paired (learned or given) and ingress packets on a port without a partner. */
  readonly pairedPorts: number;
  readonly unpairedIngress: number;
  /** The window analysed (capture clock, µs) and its length. */
  readonly fromUs: number;
  readonly toUs: number;
  readonly seconds: number;
}

export interface AnalyseOptions {
  readonly isRelayPort: (port: number) => boolean;
  /** Relay port → the other leg's port; learned from the traffic when omitted. */
  readonly partners?: ReadonlyMap<number, number>;
  /**
   * 'all': every packet. 'steady': only while every ingress stream is
   * flowing (from the last stream's first packet to the first stream's last
   * one), trimmed by `trimUs` at both ends: behind SIPp, the calls ramp up
   * and down, and only the middle has them all.
   */
  readonly window?: 'all' | 'steady';
  readonly trimUs?: number;
  /**
   * Ingress packets numbered below this are a warm-up and left out (their
   * egress too): the bench's own generator numbers every stream from 0 at
   * the start of a run (relay-generator.ts). Default 0: everything.
   */
  readonly firstSequence?: number;
  /**
   * How an egress packet is matched with its ingress: 'ssrc' (default) by
   * the other leg, SSRC and sequence number; 'timestamp' by the other leg
   * and RTP timestamp only, for a relay that rewrites SSRC and sequence
   * numbers but keeps timestamps (Asterisk bridging through its core, e.g.
   * with SRTP). The latter needs one stream per leg and unique timestamps
   * in a stream (the bench's generator: 160 per packet from 0).
   */
  readonly matchBy?: 'ssrc' | 'timestamp';
}

export function analyseRelayCapture(file: string, options: AnalyseOptions): RelayTiming {
  const p = readPackets(file, options.isRelayPort);
  const partners = options.partners ?? learnPartners(p);

  let fromUs = Number.NEGATIVE_INFINITY;
  let toUs = Number.POSITIVE_INFINITY;
  if (options.window === 'steady') {
    const first = new Map<number, number>();
    const last = new Map<number, number>();
    for (let i = 0; i < p.count; i++) {
      if (p.egress[i] !== 0) continue;
      const stream = (p.relayPort[i] ?? 0) * 2 ** 32 + (p.ssrc[i] ?? 0);
      const t = p.timeUs[i] ?? 0;
      if (!first.has(stream)) first.set(stream, t);
      last.set(stream, t);
    }
    const trim = options.trimUs ?? 0;
    fromUs = Math.max(...first.values()) + trim;
    toUs = Math.min(...last.values()) - trim;
  }

  const firstSequence = options.firstSequence ?? 0;
  const byTimestamp = options.matchBy === 'timestamp';
  // Ingress packets (their index) by expected egress (partner port, SSRC) then sequence number; or by partner port then RTP timestamp.
  const pending = new Map<number, Map<number, number>>();
  const jitterIn = new JitterAccumulator();
  const jitterOut = new JitterAccumulator();
  const jitterAdded = new JitterAccumulator();
  const ingressStreams = new Set<number>();
  const egressBySsrc = new Map<number, number>();
  const delays: number[] = [];
  let ingress = 0;
  let egress = 0;
  let unpairedIngress = 0;
  let firstUs = Number.POSITIVE_INFINITY;
  let lastUs = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < p.count; i++) {
    const t = p.timeUs[i] ?? 0;
    const port = p.relayPort[i] ?? 0;
    const ssrc = p.ssrc[i] ?? 0;
    const sequence = p.sequence[i] ?? 0;
    if (p.egress[i] === 0) {
      if (t < fromUs || t > toUs || sequence < firstSequence) continue;
      ingress++;
      firstUs = Math.min(firstUs, t);
      lastUs = Math.max(lastUs, t);
      const stream = port * 2 ** 32 + ssrc;
      ingressStreams.add(stream);
      jitterIn.add(stream, t, p.timestamp[i] ?? 0);
      const partner = partners.get(port);
      if (partner === undefined) {
        unpairedIngress++;
        continue;
      }
      const key = partner * 2 ** 32 + (byTimestamp ? 0 : ssrc);
      let bySequence = pending.get(key);
      if (bySequence === undefined) pending.set(key, (bySequence = new Map()));
      bySequence.set(byTimestamp ? (p.timestamp[i] ?? 0) : sequence, i);
    } else {
      const key = port * 2 ** 32 + (byTimestamp ? 0 : ssrc);
      const bySequence = pending.get(key);
      const id = byTimestamp ? (p.timestamp[i] ?? 0) : sequence;
      const entered = bySequence?.get(id);
      if (entered === undefined) continue;
      bySequence?.delete(id);
      const at = p.timeUs[entered] ?? 0;
      // Counted under the SSRC that entered: the stream the receiving phone expects.
      const sentSsrc = p.ssrc[entered] ?? 0;
      egress++;
      egressBySsrc.set(sentSsrc, (egressBySsrc.get(sentSsrc) ?? 0) + 1);
      delays.push(t - at);
      jitterOut.add(key, t, p.timestamp[i] ?? 0);
      jitterAdded.addDelay(key, t - at);
    }
  }
  // A port that never forwarded anything cannot be paired: its ingress is lost too.
  let unmatched = unpairedIngress;
  for (const bySequence of pending.values()) unmatched += bySequence.size;
  return {
    ingress,
    egress,
    unmatched,
    delaysUs: Float64Array.from(delays).sort(),
    jitterIn: jitterIn.result(),
    jitterOut: jitterOut.result(),
    jitterAdded: jitterAdded.result(),
    egressBySsrc,
    ingressStreams: ingressStreams.size,
    pairedPorts: partners.size,
    unpairedIngress,
    fromUs: firstUs,
    toUs: lastUs,
    seconds: Number.isFinite(lastUs - firstUs) ? (lastUs - firstUs) / 1e6 : 0,
  };
}
