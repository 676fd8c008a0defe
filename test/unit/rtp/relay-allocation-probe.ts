/**
 * Run by relay-leg-allocation.test.ts in a plain Node process (TypeScript
 * through tsx, as the media worker runs in development), because code that
 * vitest transforms was seen to allocate where the same code under plain
 * Node does not. Prints the scavenges (minor GCs) seen while relay legs
 * forward millions of packets, as one JSON line.
 */
import dgram from 'node:dgram';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import type { LegConfig } from '../../../src/rtp/media-protocol.js';
import { OutboundBufferRing } from '../../../src/rtp/outbound-buffers.js';
import { createLegTransforms, PASS_THROUGH, PLAIN_LEG, type LegTransforms, type PacketTransform } from '../../../src/rtp/packet-transform.js';
import { RelayLeg, type RelayWorkerContext } from '../../../src/rtp/relay-leg.js';
import type { LegPorts } from '../../../src/rtp/relay-port.js';
import { dgramLegPorts } from './dgram-leg-ports.js';
import { RtpHeaderView } from '../../../src/rtp/rtp-header.js';
import { SrtpSession } from '../../../src/srtp/srtp-session.js';

const PACKETS = 3_000_000;
const WARM_UP = 200_000;

const sockets: dgram.Socket[] = [];
function legSockets(): LegPorts {
  return dgramLegPorts(sockets);
}

/** Stands for SRTP protect: appends a 10-byte tag, so the relay copies the packet into a preallocated buffer first. */
class AppendTag implements PacketTransform {
  readonly outboundOverhead = 10;
  inbound(_packet: Buffer, length: number): number {
    return length;
  }
  outbound(packet: Buffer, length: number): number {
    if (packet.length < length + 10) return -1;
    for (let i = 0; i < 10; i++) packet[length + i] = i;
    return length + 10;
  }
}
const GROWING_LEG: LegTransforms = { rtp: new AppendTag(), rtcp: PASS_THROUGH };

function relayPair(growing: boolean, clock: () => number, dtmf: LegConfig['dtmf'] = null, realSrtp = false): RelayLeg {
  const context: RelayWorkerContext = {
    family: 'udp4',
    rtpHeader: new RtpHeaderView(),
    outboundBuffers: new OutboundBufferRing(),
    now: clock,
    log: () => undefined,
    // realSrtp: leg b protects with a real SrtpSession (its native crypto when built, docs/adr/0007).
    createTransforms: (srtp) => (srtp === null ? PLAIN_LEG : realSrtp ? createLegTransforms(srtp) : GROWING_LEG),
  };
  const a = new RelayLeg('a', 40000, legSockets(), context, {});
  const b = new RelayLeg('b', 40002, legSockets(), context, {});
  a.pairWith(b);
  b.pairWith(a);
  const key = { suite: 'AES_CM_128_HMAC_SHA1_80', key: new Uint8Array(16), salt: new Uint8Array(14) } as const;
  const base: Omit<LegConfig, 'remote' | 'srtp'> = { expectedSource: '127.0.0.1', forward: true, clockRates: { 0: 8000 } };
  a.configure({ ...base, remote: { address: '127.0.0.1', rtpPort: 1, rtcpPort: 1 }, srtp: null, dtmf });
  // No remote for b: everything up to the socket send runs; the send itself (dgram's own allocations) does not.
  b.configure({ ...base, remote: null, srtp: growing ? { inbound: key, outbound: key } : null });
  return a;
}

function drive(a: RelayLeg, first: number, count: number): void {
  const packet = Buffer.alloc(172);
  packet[0] = 0x80;
  packet.writeUInt32BE(0xf00dcafe, 8); // SSRC above 2^31: not a small integer
  for (let i = first; i < first + count; i++) {
    packet.writeUInt16BE(i & 0xffff, 2);
    packet.writeUInt32BE((0xfff00000 + i * 160) >>> 0, 4); // timestamps above 2^31, wrapping
    a.receiveRtp(packet, packet.length, '127.0.0.1', 5004);
  }
}

async function scavenges(a: RelayLeg): Promise<number> {
  drive(a, 0, WARM_UP);
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) count++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  drive(a, WARM_UP, PACKETS);
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return count;
}

/** Whole milliseconds stay small integers: a clock that allocates nothing, unlike performance.now() on Node 20. */
function integerClock(): () => number {
  let t = 0;
  return () => (t += 20);
}

/**
 * Keeps V8 from optimizing `f` (the probe runs with --allow-natives-syntax).
 * The per-packet path must not allocate in any tier: one CI run in about
 * twelve left SrtpSession.protectRtp unoptimized, where an SSRC above 2^31
 * read as unsigned was a heap number per packet.
 */
function neverOptimize(f: unknown): void {
  // Function, not eval: V8's intrinsics parse only in code compiled at run time, after the flag.
  new Function('f', '%NeverOptimizeFunction(f)')(f);
}

const result = {
  packets: PACKETS,
  plain: await scavenges(relayPair(false, integerClock())),
  growing: await scavenges(relayPair(true, integerClock())),
  srtp: await scavenges(relayPair(true, integerClock(), null, true)),
  performanceNow: await scavenges(relayPair(false, () => performance.now())),
  // In-band detection on every packet (µ-law zeros: loud, so the eight Goertzel filters run), and an RFC 4733 receiver beside it.
  dtmf: await scavenges(relayPair(false, integerClock(), { telephoneEvent: 101, inband: 'PCMU' })),
  // Last: the function stays unoptimized for the rest of the process.
  srtpUnoptimized: await (async () => {
    neverOptimize(SrtpSession.prototype.protectRtp);
    return scavenges(relayPair(true, integerClock(), null, true));
  })(),
};
for (const s of sockets) s.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
