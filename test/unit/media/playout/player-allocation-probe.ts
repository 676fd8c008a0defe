/**
 * Run by player-allocation.test.ts in a plain Node process (TypeScript
 * through tsx, as the media worker runs in development): the scheduler and
 * players of one worker send millions of packets through relay legs, and
 * the scavenges (minor GCs) seen meanwhile are printed as one JSON line.
 * The clock is a fake that allocates nothing, far from its origin so that
 * deadlines in microseconds are no small integers (as in a worker that has
 * run for days).
 */
import dgram from 'node:dgram';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import type { PlayoutClock } from '../../../../src/media/playout/playout-clock.js';
import { resolvePlaylist } from '../../../../src/media/playout/playlist.js';
import { PlayoutScheduler } from '../../../../src/media/playout/playout-scheduler.js';
import { RtpPlayer, type PlaybackListener } from '../../../../src/media/playout/rtp-player.js';
import { OutboundBufferRing } from '../../../../src/rtp/outbound-buffers.js';
import { PASS_THROUGH, PLAIN_LEG, type LegTransforms, type PacketTransform } from '../../../../src/rtp/packet-transform.js';
import { RelayLeg, type RelayWorkerContext } from '../../../../src/rtp/relay-leg.js';
import type { LegPorts } from '../../../../src/rtp/relay-port.js';
import { dgramLegPorts } from '../../rtp/dgram-leg-ports.js';
import { RtpHeaderView } from '../../../../src/rtp/rtp-header.js';

const STREAMS = 200;
const PERIODS = 15_000;
const WARM_UP_PERIODS = 1000;

/** Timers fire exactly when asked; the precise wait jumps to the deadline. */
class StillClock implements PlayoutClock {
  t = 1e12 + 0.25;
  due = Number.POSITIVE_INFINITY;
  wake: (() => void) | null = null;
  nowUs(): number {
    return this.t;
  }
  armTimer(delayUs: number, wake: () => void): void {
    this.due = delayUs <= 0 ? this.t : this.t + delayUs;
    this.wake = wake;
  }
  disarmTimer(): void {
    this.due = Number.POSITIVE_INFINITY;
    this.wake = null;
  }
  waitUntil(deadlineUs: number): void {
    if (deadlineUs > this.t) this.t = deadlineUs;
  }
  runUntil(targetUs: number): void {
    while (this.due <= targetUs && this.wake !== null) {
      const wake = this.wake;
      if (this.due > this.t) this.t = this.due;
      this.due = Number.POSITIVE_INFINITY;
      this.wake = null;
      wake();
    }
    if (targetUs > this.t) this.t = targetUs;
  }
}

/** Stands for SRTP protect: appends a 10-byte tag. */
class AppendTag implements PacketTransform {
  readonly outboundOverhead = 10;
  inbound(_packet: Buffer, length: number): number {
    return length;
  }
  outbound(packet: Buffer, length: number): number {
    for (let i = 0; i < 10; i++) packet[length + i] = i;
    return length + 10;
  }
}
const GROWING_LEG: LegTransforms = { rtp: new AppendTag(), rtcp: PASS_THROUGH };

const sockets: dgram.Socket[] = [];
function legSockets(): LegPorts {
  return dgramLegPorts(sockets);
}

const context: RelayWorkerContext = {
  family: 'udp4',
  rtpHeader: new RtpHeaderView(),
  outboundBuffers: new OutboundBufferRing(),
  now: () => 0,
  log: () => undefined,
  createTransforms: (srtp) => (srtp === null ? PLAIN_LEG : GROWING_LEG),
};
const key = { suite: 'AES_CM_128_HMAC_SHA1_80', key: new Uint8Array(16), salt: new Uint8Array(14) } as const;
// Two legs: no remote, so everything up to the socket send runs (dgram's own allocations are not ours).
const legs = [new RelayLeg('a', 40000, legSockets(), context, {}), new RelayLeg('a', 40002, legSockets(), context, {})];
legs[0]?.configure({ remote: null, expectedSource: null, srtp: null, forward: true, clockRates: {} });
legs[1]?.configure({ remote: null, expectedSource: null, srtp: { inbound: key, outbound: key }, forward: true, clockRates: {} });

const clock = new StillClock();
const scheduler = new PlayoutScheduler(clock);
const prompt = Uint8Array.from({ length: 8000 * 7 + 13 }, (_, i) => i & 0xff);
const listener: PlaybackListener = { itemEnded: () => undefined, ended: () => undefined };
for (let i = 0; i < STREAMS; i++) {
  const leg = legs[i % 2];
  if (leg === undefined) throw new Error('no leg');
  const player = new RtpPlayer(scheduler, leg);
  // Endless: prompt, tone, silence, prompt … within one play (items change inside packets).
  const segments = resolvePlaylist(
    [{ kind: 'prompt', prompt: 'p' }, { kind: 'tone', tone: 'ringback', ms: 6010 }, { kind: 'silence', ms: 995 }, { kind: 'tone', tone: 'busy', ms: null }],
    'PCMU',
    () => prompt,
  );
  player.play(segments, 'PCMU', 0, listener);
}

clock.runUntil(clock.t + WARM_UP_PERIODS * 20_000);
let scavenges = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
  }
});
observer.observe({ entryTypes: ['gc'] });
const before = scheduler.stats().deadlinesServed;
clock.runUntil(clock.t + PERIODS * 20_000);
await new Promise((resolve) => setTimeout(resolve, 20));
observer.disconnect();
for (const s of sockets) s.close();
process.stdout.write(`${JSON.stringify({ packets: scheduler.stats().deadlinesServed - before, scavenges })}\n`);
