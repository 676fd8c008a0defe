import { describe, expect, it } from 'vitest';
import { decodeToLinear, G711_SILENCE, type G711Codec } from '../../../../src/media/playout/g711.js';
import { PlayoutScheduler, type PlayoutSchedulerOptions } from '../../../../src/media/playout/playout-scheduler.js';
import type { PlayEndReason, PlaylistItem } from '../../../../src/media/playout/playout-protocol.js';
import { resolvePlaylist } from '../../../../src/media/playout/playlist.js';
import { randomStreamIdentity, RtpPlayer, type PlaybackListener, type RtpStreamIdentity } from '../../../../src/media/playout/rtp-player.js';
import { toneTable } from '../../../../src/media/playout/tones.js';
import { FakePlayoutClock } from './fake-playout-clock.js';

interface SentPacket {
  readonly atUs: number;
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly payload: Buffer;
}

type Event = { readonly packets: number } & ({ readonly itemEnded: number } | { readonly ended: PlayEndReason; readonly packetsSent: number });

class Harness {
  readonly clock = new FakePlayoutClock(0);
  readonly scheduler: PlayoutScheduler;
  readonly sent: SentPacket[] = [];
  readonly player: RtpPlayer;
  readonly prompts = new Map<string, Uint8Array>();

  constructor(identity: RtpStreamIdentity = { ssrc: 0x11223344, sequenceNumber: 1000, timestamp: 5000 }, options: PlayoutSchedulerOptions = {}) {
    this.scheduler = new PlayoutScheduler(this.clock, options);
    const sink = {
      sendPlayedRtp: (packet: Buffer, length: number): void => {
        expect(length).toBe(172);
        this.sent.push({
          atUs: this.clock.nowUs(),
          marker: (packet[1] ?? 0) >= 0x80,
          payloadType: (packet[1] ?? 0) & 0x7f,
          sequenceNumber: packet.readUInt16BE(2),
          timestamp: packet.readUInt32BE(4),
          ssrc: packet.readUInt32BE(8),
          payload: Buffer.from(packet.subarray(12, length)),
        });
      },
    };
    this.player = new RtpPlayer(this.scheduler, sink, identity);
  }

  /** Plays `items`; the events it gets, each with the number of packets sent by then. */
  play(items: PlaylistItem[], codec: G711Codec = 'PCMU', payloadType = codec === 'PCMU' ? 0 : 8): Event[] {
    const events: Event[] = [];
    const listener: PlaybackListener = {
      itemEnded: (item) => events.push({ packets: this.sent.length, itemEnded: item }),
      ended: (reason, packetsSent) => events.push({ packets: this.sent.length, ended: reason, packetsSent }),
    };
    this.player.play(resolvePlaylist(items, codec, (id) => this.prompts.get(id) ?? null), codec, payloadType, listener);
    return events;
  }

  /** Runs until `packets` more have been sent (or their time has passed), then to the middle of the next period. */
  runPackets(packets: number): void {
    const target = this.sent.length + packets;
    const until = this.clock.nowUs() + packets * 20_000 + 40_000;
    while (this.sent.length < target && this.clock.nowUs() < until) this.clock.advanceBy(1000);
    this.clock.advanceBy(10_000);
  }

  payloadBytes(from = 0, to = this.sent.length): Buffer {
    return Buffer.concat(this.sent.slice(from, to).map((p) => p.payload));
  }
}

function bytes(length: number, first: number): Uint8Array {
  // Values 0x10-0xEF: never a silence code, easy to tell apart.
  return Uint8Array.from({ length }, (_, i) => 0x10 + ((first + i) % 0xe0));
}

/** The frequency (Hz, 10 Hz steps) with the most energy in `samples` at 8 kHz: a plain DFT. */
function dominantFrequency(samples: Int16Array): number {
  let best = 0;
  let bestPower = -1;
  for (let f = 50; f < 4000; f += 10) {
    let re = 0;
    let im = 0;
    const w = (2 * Math.PI * f) / 8000;
    for (let n = 0; n < samples.length; n++) {
      re += (samples[n] ?? 0) * Math.cos(w * n);
      im -= (samples[n] ?? 0) * Math.sin(w * n);
    }
    const power = re * re + im * im;
    if (power > bestPower) {
      bestPower = power;
      best = f;
    }
  }
  return best;
}

describe('RtpPlayer', () => {
  it('keeps sequence numbers and timestamps continuous across prompt → silence → tone → prompt, back to back', () => {
    // Arrange: lengths that are not whole packets, so items share packets.
    const h = new Harness();
    const first = bytes(250, 0);
    const second = bytes(170, 100);
    h.prompts.set('welcome', first);
    h.prompts.set('goodbye', second);

    // Act
    const events = h.play([
      { kind: 'prompt', prompt: 'welcome' },
      { kind: 'silence', ms: 30 },
      { kind: 'tone', tone: 'ringback', ms: 100 },
      { kind: 'prompt', prompt: 'goodbye' },
    ]);
    h.runPackets(12);

    // Assert: 250 + 240 + 800 + 170 = 1460 samples → 10 packets, the last padded with 140 samples of silence.
    expect(h.sent).toHaveLength(10);
    h.sent.forEach((p, n) => {
      expect(p.sequenceNumber).toBe(1000 + n);
      expect(p.timestamp).toBe(5000 + 160 * n);
      expect(p.ssrc).toBe(0x11223344);
      expect(p.payloadType).toBe(0);
      expect(p.marker).toBe(n === 0);
      expect(p.atUs).toBe(h.sent[0]!.atUs + n * 20_000);
    });
    const expected = Buffer.concat([first, Buffer.alloc(240, 0xff), toneTable('ringback', 'PCMU').subarray(0, 800), second, Buffer.alloc(140, 0xff)]);
    expect(h.payloadBytes()).toEqual(expected);
    expect(events).toEqual([
      { packets: 2, itemEnded: 0 },
      { packets: 4, itemEnded: 1 },
      { packets: 9, itemEnded: 2 },
      { packets: 10, itemEnded: 3 },
      { packets: 10, ended: 'completed', packetsSent: 10 },
    ]);
    expect(h.player.playing).toBe(false);
    expect(h.scheduler.size).toBe(0);
  });

  it('wraps the sequence number at 16 bits and the timestamp at 32 bits', () => {
    const h = new Harness({ ssrc: 0xfedcba98, sequenceNumber: 0xfffe, timestamp: 0xffffff00 });
    h.play([{ kind: 'silence', ms: 80 }]);
    h.runPackets(4);

    expect(h.sent.map((p) => p.sequenceNumber)).toEqual([0xfffe, 0xffff, 0, 1]);
    expect(h.sent.map((p) => p.timestamp)).toEqual([0xffffff00, 0xffffffa0, 0x40, 0xe0]);
    expect(h.sent.every((p) => p.ssrc === 0xfedcba98)).toBe(true);
  });

  it('sets the marker bit on the first packet after a pause, with the timestamp advanced by the time nothing was sent', () => {
    const h = new Harness();
    h.play([{ kind: 'silence', ms: 40 }], 'PCMA');
    h.runPackets(2);
    h.clock.advanceBy(987_000);

    h.play([{ kind: 'silence', ms: 40 }], 'PCMA');
    h.runPackets(2);

    expect(h.sent.map((p) => p.marker)).toEqual([true, false, true, false]);
    expect(h.sent.map((p) => p.sequenceNumber)).toEqual([1000, 1001, 1002, 1003]);
    const [, last, resumed] = h.sent;
    const elapsedUs = resumed!.atUs - last!.atUs;
    expect(elapsedUs % 5000).toBe(0);
    expect(resumed!.timestamp - last!.timestamp).toBe((elapsedUs * 8000) / 1e6);
    expect(h.sent.map((p) => p.payloadType)).toEqual([8, 8, 8, 8]);
    expect(h.payloadBytes()).toEqual(Buffer.alloc(640, 0xd5));
  });

  it('replaces a play at the next packet: the new playlist from its first sample, the stream continuous, no marker', () => {
    const h = new Harness();
    h.prompts.set('menu', bytes(400, 7));
    const toneEvents = h.play([{ kind: 'tone', tone: 'busy', ms: null }]);
    h.runPackets(5);

    // Act: barge-in between two packets.
    const menuEvents = h.play([{ kind: 'prompt', prompt: 'menu' }]);
    h.runPackets(4);

    expect(toneEvents).toEqual([{ packets: 5, ended: 'replaced', packetsSent: 5 }]);
    expect(h.sent.map((p) => p.sequenceNumber)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]);
    expect(h.sent.map((p) => p.timestamp)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => 5000 + 160 * n));
    expect(h.sent.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false, false]);
    expect(h.sent.slice(1).every((p, i) => p.atUs - h.sent[i]!.atUs === 20_000)).toBe(true);
    expect(h.payloadBytes(0, 5)).toEqual(Buffer.from(toneTable('busy', 'PCMU').subarray(0, 800)));
    expect(h.payloadBytes(5)).toEqual(Buffer.concat([bytes(400, 7), Buffer.alloc(80, 0xff)]));
    expect(menuEvents.at(-1)).toEqual({ packets: 8, ended: 'completed', packetsSent: 3 });
  });

  it('stops between two packets: nothing more is sent and the stream leaves the scheduler', () => {
    const h = new Harness();
    const events = h.play([{ kind: 'tone', tone: 'ringback', ms: null }]);
    h.runPackets(3);

    expect(h.player.stop()).toBe(true);
    h.clock.advanceBy(200_000);

    expect(h.sent).toHaveLength(3);
    expect(events).toEqual([{ packets: 3, ended: 'stopped', packetsSent: 3 }]);
    expect(h.scheduler.size).toBe(0);
    expect(h.player.stop()).toBe(false);
  });

  it('stops from an item-ended callback without sending the rest or telling of later items', () => {
    const h = new Harness();
    h.prompts.set('a', bytes(160, 0));
    const events: string[] = [];
    h.player.play(
      resolvePlaylist([{ kind: 'prompt', prompt: 'a' }, { kind: 'prompt', prompt: 'a' }, { kind: 'silence', ms: 0 }], 'PCMU', (id) => h.prompts.get(id) ?? null),
      'PCMU',
      0,
      {
        itemEnded: (item) => {
          events.push(`item ${item}`);
          h.player.stop();
        },
        ended: (reason, packets) => events.push(`${reason} ${packets}`),
      },
    );
    h.runPackets(1);
    h.clock.advanceBy(100_000);

    expect(events).toEqual(['item 0', 'stopped 1']);
    expect(h.sent).toHaveLength(1);
  });

  it('after a stall longer than the catch-up, jumps the timestamp by the dropped deadlines with a marker, without skipping audio', () => {
    const h = new Harness(undefined, { maxCatchUpPeriods: 5 });
    const prompt = bytes(160 * 100, 3);
    h.prompts.set('long', prompt);
    h.play([{ kind: 'prompt', prompt: 'long' }]);
    h.runPackets(10);

    h.clock.stall(1_000_000);
    h.runPackets(8);

    const gap = h.sent.findIndex((p, i) => i > 0 && p.timestamp - h.sent[i - 1]!.timestamp !== 160);
    const before = h.sent[gap - 1]!;
    const after = h.sent[gap]!;
    expect(after.marker).toBe(true);
    expect(after.sequenceNumber).toBe(before.sequenceNumber + 1);
    // The timestamp is the deadline's: (dropped + 1) × 160 after the last one sent.
    const dropped = h.player.deadlinesMissed;
    expect(dropped).toBeGreaterThan(40);
    expect(after.timestamp - before.timestamp).toBe((dropped + 1) * 160);
    expect(h.sent.filter((p) => p.marker)).toHaveLength(2);
    expect(h.payloadBytes()).toEqual(Buffer.from(prompt.subarray(0, 160 * h.sent.length)));
  });

  it.each(['PCMU', 'PCMA'] as const)('plays the French ringback in %s: 440 Hz for 1.5 s, then 3.5 s of silence, and again', (codec) => {
    const h = new Harness();
    h.play([{ kind: 'tone', tone: 'ringback', ms: null }], codec);
    h.runPackets(260);

    const on = decodeToLinear(codec, h.payloadBytes(0, 50));
    expect(dominantFrequency(on)).toBe(440);
    // −10 dBm0 is a peak of about 7160: companding keeps it within a few percent.
    const peak = on.reduce((max, s) => Math.max(max, Math.abs(s)), 0);
    expect(peak).toBeGreaterThan(6700);
    expect(peak).toBeLessThan(7600);
    // Every packet of the 1.5 s burst carries the tone at full level.
    for (let n = 0; n < 75; n++) expect(Math.max(...decodeToLinear(codec, h.payloadBytes(n, n + 1)))).toBeGreaterThan(6700);
    expect(h.payloadBytes(75, 250)).toEqual(Buffer.alloc(175 * 160, G711_SILENCE[codec]));
    expect(h.payloadBytes(250, 260)).toEqual(h.payloadBytes(0, 10));
  });

  it('plays busy as 0.5 s of 440 Hz and 0.5 s of silence', () => {
    const h = new Harness();
    h.play([{ kind: 'tone', tone: 'busy', ms: 2000 }], 'PCMA');
    h.runPackets(101);

    expect(h.sent).toHaveLength(100);
    expect(dominantFrequency(decodeToLinear('PCMA', h.payloadBytes(0, 25)))).toBe(440);
    expect(h.payloadBytes(25, 50)).toEqual(Buffer.alloc(25 * 160, 0xd5));
    expect(h.payloadBytes(50, 75)).toEqual(h.payloadBytes(0, 25));
  });

  it('draws SSRC, first sequence number and first timestamp at random (RFC 3550 §5.1)', () => {
    const identities = Array.from({ length: 20 }, randomStreamIdentity);
    expect(new Set(identities.map((i) => i.ssrc)).size).toBe(20);
    expect(new Set(identities.map((i) => i.timestamp)).size).toBe(20);
    for (const { ssrc, sequenceNumber, timestamp } of identities) {
      expect(ssrc).toBeGreaterThanOrEqual(0);
      expect(ssrc).toBeLessThan(2 ** 32);
      expect(sequenceNumber).toBeLessThan(2 ** 16);
      expect(timestamp).toBeLessThan(2 ** 32);
    }
  });
});
