import { describe, expect, it } from 'vitest';
import { PlayoutScheduler } from '../../../../src/media/playout/playout-scheduler.js';
import { sayDigits, type PlayoutEvent, type PlayRequest } from '../../../../src/media/playout/playout-protocol.js';
import { WorkerPlayout, type PlayoutLeg } from '../../../../src/media/playout/worker-playout.js';
import { MediaConfigurationError } from '../../../../src/rtp/media-protocol.js';
import { FakePlayoutClock } from './fake-playout-clock.js';

class FakeLeg implements PlayoutLeg {
  playing = false;
  readonly packets: Buffer[] = [];
  sendPlayedRtp(packet: Buffer, length: number): void {
    this.packets.push(Buffer.from(packet.subarray(0, length)));
  }
  setPlaying(playing: boolean): void {
    this.playing = playing;
  }
}

function setup(): { clock: FakePlayoutClock; playout: WorkerPlayout; events: PlayoutEvent[] } {
  const clock = new FakePlayoutClock(0);
  const events: PlayoutEvent[] = [];
  let ssrc = 1;
  const playout = new WorkerPlayout(new PlayoutScheduler(clock), (event) => events.push(event), () => ({ ssrc: ssrc++, sequenceNumber: 0, timestamp: 0 }));
  return { clock, playout, events };
}

function shared(bytes: number[]): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}

const pcmu = (playlist: PlayRequest['playlist']): PlayRequest => ({ playlist, codec: 'PCMU', payloadType: 0 });

describe('WorkerPlayout', () => {
  it('says digits from shared prompts, marks the leg as playing, and tells the main thread of each item and the end', () => {
    // Arrange: prompts "1", "2", "3" of 100 samples each, a 120-sample "you dialled".
    const { clock, playout, events } = setup();
    for (const digit of ['1', '2', '3']) playout.loadPrompt(`digit-${digit}`, 'PCMU', shared(Array(100).fill(0x20 + Number(digit))));
    playout.loadPrompt('you-dialled', 'PCMU', shared(Array(120).fill(0x40)));
    const leg = new FakeLeg();

    // Act
    playout.play(7, 'a', leg, 41, pcmu([{ kind: 'prompt', prompt: 'you-dialled' }, sayDigits('123', (d) => `digit-${d}`), { kind: 'prompt', prompt: 'you-dialled' }]));
    expect(leg.playing).toBe(true);
    clock.advanceBy(200_000);

    // Assert: 120 + 300 + 120 = 540 samples: 4 packets, each item told once, when its last sample left.
    const payload = Buffer.concat(leg.packets.map((p) => p.subarray(12)));
    expect(payload.subarray(0, 540)).toEqual(
      Buffer.concat([Buffer.alloc(120, 0x40), Buffer.alloc(100, 0x21), Buffer.alloc(100, 0x22), Buffer.alloc(100, 0x23), Buffer.alloc(120, 0x40)]),
    );
    expect(leg.packets).toHaveLength(4);
    expect(events).toEqual([
      { type: 'itemEnded', relayId: 7, leg: 'a', playId: 41, item: 0 },
      { type: 'itemEnded', relayId: 7, leg: 'a', playId: 41, item: 1 },
      { type: 'itemEnded', relayId: 7, leg: 'a', playId: 41, item: 2 },
      { type: 'playEnded', relayId: 7, leg: 'a', playId: 41, reason: 'completed', packetsSent: 4 },
    ]);
    expect(leg.playing).toBe(false);
    expect(playout.stats()).toMatchObject({ players: 1, playing: 0, prompts: 4, promptBytes: 420, streams: 0 });
  });

  it('keeps one stream per leg across plays, and one per leg', () => {
    const { clock, playout } = setup();
    const [a, b] = [new FakeLeg(), new FakeLeg()];
    playout.play(1, 'a', a, 1, pcmu([{ kind: 'silence', ms: 20 }]));
    playout.play(1, 'b', b, 2, pcmu([{ kind: 'silence', ms: 20 }]));
    clock.advanceBy(100_000);
    playout.play(1, 'a', a, 3, pcmu([{ kind: 'silence', ms: 20 }]));
    clock.advanceBy(100_000);

    const ssrcOf = (p: Buffer): number => p.readUInt32BE(8);
    expect(a.packets.map(ssrcOf)).toEqual([1, 1]);
    expect(b.packets.map(ssrcOf)).toEqual([2]);
    expect(a.packets.map((p) => p.readUInt16BE(2))).toEqual([0, 1]);
  });

  it('replaces a play (barge-in): the first ends as replaced and the leg stays playing', () => {
    const { clock, playout, events } = setup();
    const leg = new FakeLeg();
    playout.play(3, 'a', leg, 10, pcmu([{ kind: 'tone', tone: 'ringback', ms: null }]));
    clock.advanceBy(50_000);

    playout.play(3, 'a', leg, 11, pcmu([{ kind: 'silence', ms: 1000 }]));

    expect(events).toEqual([{ type: 'playEnded', relayId: 3, leg: 'a', playId: 10, reason: 'replaced', packetsSent: 3 }]);
    expect(leg.playing).toBe(true);
    expect(playout.stop(3, 'a')).toBe(true);
    expect(events.at(-1)).toMatchObject({ playId: 11, reason: 'stopped' });
    expect(leg.playing).toBe(false);
    expect(playout.stop(3, 'a')).toBe(false);
  });

  it('ends the plays of a released relay and forgets its players', () => {
    const { playout, events } = setup();
    const leg = new FakeLeg();
    playout.play(5, 'b', leg, 20, pcmu([{ kind: 'tone', tone: 'busy', ms: null }]));

    playout.releaseRelay(5);

    expect(events).toEqual([{ type: 'playEnded', relayId: 5, leg: 'b', playId: 20, reason: 'released', packetsSent: 0 }]);
    expect(playout.stats()).toMatchObject({ players: 0, streams: 0 });
  });

  it('refuses what cannot be played, naming it, and leaves the leg as it was', () => {
    const { playout } = setup();
    playout.loadPrompt('hello', 'PCMA', shared([1, 2, 3]));
    const leg = new FakeLeg();
    const refused = (request: PlayRequest): unknown => {
      try {
        playout.play(1, 'a', leg, 1, request);
        return null;
      } catch (err) {
        return err;
      }
    };

    expect(refused(pcmu([{ kind: 'prompt', prompt: 'hello' }]))).toEqual(new MediaConfigurationError('playlist item 0: prompt "hello" is not loaded for PCMU'));
    expect(refused(pcmu([]))).toBeInstanceOf(MediaConfigurationError);
    expect(refused(pcmu([{ kind: 'silence', ms: -1 }]))).toBeInstanceOf(MediaConfigurationError);
    expect(refused(pcmu([{ kind: 'tone', tone: 'dial' as 'busy', ms: null }]))).toBeInstanceOf(MediaConfigurationError);
    expect(refused({ playlist: [{ kind: 'silence', ms: 20 }], codec: 'G722' as 'PCMU', payloadType: 9 })).toBeInstanceOf(MediaConfigurationError);
    expect(refused({ playlist: [{ kind: 'silence', ms: 20 }], codec: 'PCMU', payloadType: 128 })).toBeInstanceOf(MediaConfigurationError);
    expect(leg.playing).toBe(false);
    expect(playout.stats().streams).toBe(0);

    playout.unloadPrompt('hello', 'PCMA');
    expect(refused({ playlist: [{ kind: 'prompt', prompt: 'hello' }], codec: 'PCMA', payloadType: 8 })).toBeInstanceOf(MediaConfigurationError);
  });
});
