/**
 * Run by socket-allocation.test.ts in a plain Node process with a 1 MB
 * young generation. Two relay legs in this thread, on real loopback
 * sockets; a worker thread (its own heap, its own garbage) plays phone A,
 * sending PACKETS RTP packets to leg a, and phone B, counting what leg b
 * delivers. Prints, as one JSON line, the scavenges (minor GCs) of this
 * thread while the packets went through, for each kind of port ('native',
 * 'dgram'; docs/adr/0006).
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { DgramRelayPortOpener } from '../../../src/rtp/dgram-relay-port.js';
import type { LegConfig } from '../../../src/rtp/media-protocol.js';
import { loadUdpIoAddon, NativeRelayPortOpener, NativeUdp } from '../../../src/rtp/native-relay-port.js';
import { OutboundBufferRing } from '../../../src/rtp/outbound-buffers.js';
import { PLAIN_LEG } from '../../../src/rtp/packet-transform.js';
import { RelayLeg } from '../../../src/rtp/relay-leg.js';
import type { RelayPortOpener } from '../../../src/rtp/relay-port.js';
import { RtpHeaderView } from '../../../src/rtp/rtp-header.js';

const PACKETS = Number(process.argv[2] ?? 400_000);
const WARM_UP = 20_000;

/** Phone A sends `count` packets to `port` in bursts of 10, paced, yielding between bursts; phone B reports what it received. */
const PHONES = `
const dgram = require('node:dgram');
const { parentPort } = require('node:worker_threads');
const a = dgram.createSocket('udp4');
const b = dgram.createSocket('udp4');
let received = 0;
b.on('message', () => { received++; });
a.bind(0, '127.0.0.1', () => b.bind(0, '127.0.0.1', () => parentPort.postMessage({ a: a.address().port, b: b.address().port })));
parentPort.on('message', ({ port, first, count }) => {
  const packet = Buffer.alloc(172);
  packet[0] = 0x80;
  packet.writeUInt32BE(0xf00dcafe, 8);
  let i = first;
  received = 0;
  const burst = () => {
    // 10 packets every 100 µs at most: 100 000 packets/s, which every kind of port keeps up with here.
    const until = performance.now() + 0.1;
    while (performance.now() < until);
    for (let n = 0; n < 10 && i < first + count; n++, i++) {
      packet.writeUInt16BE(i & 0xffff, 2);
      packet.writeUInt32BE((i * 160) >>> 0, 4);
      a.send(packet, port, '127.0.0.1');
    }
    if (i < first + count) setImmediate(burst);
    else setTimeout(() => parentPort.postMessage({ received }), 200);
  };
  burst();
});
`;

class Phones {
  private readonly worker = new Worker(PHONES, { eval: true });
  readonly ports: Promise<{ a: number; b: number }> = new Promise((resolve) => this.worker.once('message', resolve));

  send(port: number, first: number, count: number): Promise<number> {
    return new Promise((resolve) => {
      this.worker.once('message', (m: { received: number }) => resolve(m.received));
      this.worker.postMessage({ port, first, count });
    });
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Whole milliseconds stay small integers: a clock that allocates nothing, unlike performance.now() on Node 20. */
function integerClock(): () => number {
  let t = 0;
  return () => (t += 20);
}

async function run(opener: RelayPortOpener, portBase: number, phones: Phones): Promise<{ scavenges: number; delivered: number }> {
  const { a: phoneA, b: phoneB } = await phones.ports;
  const context = {
    family: 'udp4' as const,
    rtpHeader: new RtpHeaderView(),
    outboundBuffers: new OutboundBufferRing(),
    now: integerClock(),
    log: () => undefined,
    createTransforms: () => PLAIN_LEG,
  };
  const legPorts = async (port: number) => ({ rtp: await opener.open('127.0.0.1', port, true), rtcp: await opener.open('127.0.0.1', port + 1, false) });
  const a = new RelayLeg('a', portBase, await legPorts(portBase), context, {});
  const b = new RelayLeg('b', portBase + 2, await legPorts(portBase + 2), context, {});
  a.pairWith(b);
  b.pairWith(a);
  const base: Omit<LegConfig, 'remote'> = { expectedSource: '127.0.0.1', forward: true, clockRates: { 0: 8000 }, srtp: null };
  a.configure({ ...base, remote: { address: '127.0.0.1', rtpPort: phoneA, rtcpPort: phoneA + 1 } });
  b.configure({ ...base, remote: { address: '127.0.0.1', rtpPort: phoneB, rtcpPort: phoneB + 1 } });

  const result = await countScavenges(phones, portBase);
  await Promise.all([a.close(), b.close()]);
  return result;
}

/** Warms up, then sends PACKETS to `port`, counting this thread's scavenges meanwhile. */
async function countScavenges(phones: Phones, port: number): Promise<{ scavenges: number; delivered: number }> {
  await phones.send(port, 0, WARM_UP);
  let scavenges = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const delivered = await phones.send(port, WARM_UP, PACKETS);
  observer.disconnect();
  return { scavenges, delivered };
}

const loaded = loadUdpIoAddon();
if (!('addon' in loaded)) throw new Error(`native UDP addon not built: ${loaded.reason}`);
const phones = new Phones();
const io = new NativeUdp(loaded.addon);
const native = await run(new NativeRelayPortOpener('udp4', io), 43600, phones);
const dgram = await run(new DgramRelayPortOpener('udp4'), 43610, phones);
await phones.stop();
process.stdout.write(`${JSON.stringify({ packets: PACKETS, native, dgram })}\n`);
