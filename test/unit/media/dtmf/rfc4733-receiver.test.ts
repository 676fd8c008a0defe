import { describe, expect, it } from 'vitest';
import type { DtmfDigit } from '../../../../src/media/dtmf/dtmf-digit.js';
import {
  DEFAULT_END_TIMEOUT_MS,
  TelephoneEventEnding,
  TelephoneEventReceiver,
  TelephoneEventStatus,
  type TelephoneEventSink,
} from '../../../../src/media/dtmf/rfc4733-receiver.js';
import { writeTelephoneEvent } from '../../../../src/media/dtmf/telephone-event.js';

interface Report {
  readonly kind: 'began' | 'ended';
  readonly digit: DtmfDigit;
  readonly timestamp: number;
  readonly duration?: number;
  readonly ending?: TelephoneEventEnding;
}

class RecordingSink implements TelephoneEventSink {
  readonly reports: Report[] = [];

  get digits(): string {
    return this.reports
      .filter((report) => report.kind === 'ended')
      .map((report) => report.digit)
      .join('');
  }

  get ended(): Report[] {
    return this.reports.filter((report) => report.kind === 'ended');
  }

  dtmfBegan(digit: DtmfDigit, timestamp: number): void {
    this.reports.push({ kind: 'began', digit, timestamp });
  }

  dtmfEnded(digit: DtmfDigit, timestamp: number, duration: number, ending: TelephoneEventEnding): void {
    this.reports.push({ kind: 'ended', digit, timestamp, duration, ending });
  }
}

interface Packet {
  readonly event: number;
  readonly timestamp: number;
  readonly duration: number;
  readonly end?: boolean;
  readonly marker?: boolean;
  /** Arrival time, ms. */
  readonly at: number;
}

/** A 12-byte RTP header's worth of padding, then the payload: the receiver reads at an offset. */
function payloadOf(packet: Packet): Uint8Array {
  const bytes = new Uint8Array(16);
  writeTelephoneEvent(bytes, 12, packet.event, packet.end ?? false, 10, packet.duration);
  return bytes;
}

function feed(receiver: TelephoneEventReceiver, packets: readonly Packet[]): TelephoneEventStatus[] {
  return packets.map((packet) =>
    receiver.receive(payloadOf(packet), 12, 4, packet.timestamp, packet.marker ?? false, packet.at),
  );
}

/**
 * What a phone sends for one key press: the start packet (M bit), updates
 * every 20 ms with the duration so far, and the end packet three times.
 */
function keyPress(event: number, timestamp: number, durationUnits: number, startMs: number): Packet[] {
  const packets: Packet[] = [{ event, timestamp, duration: 0, marker: true, at: startMs }];
  let at = startMs;
  for (let duration = 160; duration < durationUnits; duration += 160) {
    at += 20;
    packets.push({ event, timestamp, duration, at });
  }
  for (let i = 0; i < 3; i += 1) {
    at += 20;
    packets.push({ event, timestamp, duration: durationUnits, end: true, at });
  }
  return packets;
}

describe('TelephoneEventReceiver (RFC 4733 §2.5.2)', () => {
  it('reports a key press once, with its duration, and takes the repeated end packets as repeats', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);

    const statuses = feed(receiver, keyPress(5, 1000, 800, 0));

    expect(sink.reports).toEqual([
      { kind: 'began', digit: '5', timestamp: 1000 },
      { kind: 'ended', digit: '5', timestamp: 1000, duration: 800, ending: TelephoneEventEnding.End },
    ]);
    expect(statuses.slice(-3)).toEqual([
      TelephoneEventStatus.Accepted,
      TelephoneEventStatus.Repeated,
      TelephoneEventStatus.Repeated,
    ]);
    expect(receiver.eventActive).toBe(false);
  });

  it('ignores repeated start packets', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);
    const start = { event: 1, timestamp: 3200, duration: 0, marker: true };

    feed(receiver, [
      { ...start, at: 0 },
      { ...start, at: 1 },
      { ...start, at: 2 },
      { event: 1, timestamp: 3200, duration: 160, at: 20 },
      { event: 1, timestamp: 3200, duration: 320, end: true, at: 40 },
    ]);

    expect(sink.reports.map((report) => report.kind)).toEqual(['began', 'ended']);
    expect(sink.ended[0]?.duration).toBe(320);
  });

  it('reports the digit when the start packet is lost (first packet is an update without M)', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);

    feed(receiver, keyPress(9, 16000, 640, 0).slice(2));

    expect(sink.digits).toBe('9');
    expect(sink.ended[0]).toMatchObject({ timestamp: 16000, duration: 640, ending: TelephoneEventEnding.End });
  });

  it('reports the digit when only the end packets arrive', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);

    const statuses = feed(receiver, keyPress(11, 8000, 800, 0).slice(-3));

    expect(sink.reports).toEqual([
      { kind: 'began', digit: '#', timestamp: 8000 },
      { kind: 'ended', digit: '#', timestamp: 8000, duration: 800, ending: TelephoneEventEnding.End },
    ]);
    expect(statuses).toEqual([TelephoneEventStatus.Accepted, TelephoneEventStatus.Repeated, TelephoneEventStatus.Repeated]);
  });

  it('ends an event whose end packets were all lost after the timeout, with the last duration seen', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);
    const withoutEnd = keyPress(3, 4000, 800, 0).slice(0, -3);
    feed(receiver, withoutEnd);
    const lastAt = withoutEnd.at(-1)?.at ?? 0;

    receiver.expire(lastAt + DEFAULT_END_TIMEOUT_MS - 1);
    expect(sink.ended).toEqual([]);
    expect(receiver.eventActive).toBe(true);

    receiver.expire(lastAt + DEFAULT_END_TIMEOUT_MS);
    expect(sink.ended).toEqual([
      { kind: 'ended', digit: '3', timestamp: 4000, duration: 640, ending: TelephoneEventEnding.Timeout },
    ]);

    // An end packet that was only late, not lost, does not report the digit again.
    const late = receiver.receive(payloadOf({ event: 3, timestamp: 4000, duration: 800, end: true, at: 0 }), 12, 4, 4000, false, lastAt + 300);
    expect(late).toBe(TelephoneEventStatus.Repeated);
    receiver.expire(lastAt + 1000);
    expect(sink.ended).toHaveLength(1);
  });

  it('takes the timeout from the receive clock, not from the number of expire calls', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink, { endTimeoutMs: 100 });
    feed(receiver, [{ event: 7, timestamp: 0, duration: 0, marker: true, at: 1000 }]);

    for (let now = 1000; now < 1100; now += 20) receiver.expire(now);
    expect(sink.ended).toEqual([]);
    receiver.expire(1100);
    expect(sink.digits).toBe('7');
  });

  it('ends an event whose end packets were lost when the next event begins', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);

    feed(receiver, [...keyPress(1, 1000, 800, 0).slice(0, -3), ...keyPress(2, 4000, 480, 300)]);

    expect(sink.ended).toEqual([
      { kind: 'ended', digit: '1', timestamp: 1000, duration: 640, ending: TelephoneEventEnding.Superseded },
      { kind: 'ended', digit: '2', timestamp: 4000, duration: 480, ending: TelephoneEventEnding.End },
    ]);
  });

  it('reports the same digit twice when it comes with two timestamps', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);

    feed(receiver, [...keyPress(5, 1000, 800, 0), ...keyPress(5, 2600, 800, 200)]);

    expect(sink.digits).toBe('55');
    expect(sink.ended.map((report) => report.timestamp)).toEqual([1000, 2600]);
  });

  it('follows the 32-bit timestamp wrap', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);
    const beforeWrap = 0xffffff00;
    const afterWrap = 0x00000200;

    feed(receiver, [...keyPress(4, beforeWrap, 480, 0), ...keyPress(6, afterWrap, 480, 200)]);
    // A reordered packet from the event before the wrap is older, not a new event.
    const stale = receiver.receive(payloadOf({ event: 4, timestamp: beforeWrap, duration: 320, at: 0 }), 12, 4, beforeWrap, false, 330);

    expect(sink.digits).toBe('46');
    expect(sink.ended.map((report) => report.timestamp)).toEqual([beforeWrap, afterWrap]);
    expect(stale).toBe(TelephoneEventStatus.Stale);
  });

  it('takes a signed 32-bit timestamp as the same event as its unsigned value', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);

    feed(receiver, [
      { event: 0, timestamp: 0xfffffe00, duration: 0, marker: true, at: 0 },
      { event: 0, timestamp: -512, duration: 160, end: true, at: 20 },
    ]);

    expect(sink.ended).toEqual([
      { kind: 'ended', digit: '0', timestamp: 0xfffffe00, duration: 160, ending: TelephoneEventEnding.End },
    ]);
  });

  it('ignores a late update of an earlier event once a newer one has begun', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);
    feed(receiver, [...keyPress(1, 1000, 480, 0), { event: 2, timestamp: 2000, duration: 0, marker: true, at: 150 }]);

    const status = receiver.receive(payloadOf({ event: 1, timestamp: 1000, duration: 480, end: true, at: 0 }), 12, 4, 1000, false, 160);

    expect(status).toBe(TelephoneEventStatus.Stale);
    expect(sink.digits).toBe('1');
    expect(receiver.eventActive).toBe(true);
  });

  it('ignores event codes that are not DTMF digits, without disturbing the current event', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);
    const press = keyPress(12, 1000, 480, 0);
    feed(receiver, press.slice(0, 2));

    const statuses = [16, 32, 64, 255].map((event) =>
      receiver.receive(payloadOf({ event, timestamp: 5000, duration: 160, marker: true, at: 30 }), 12, 4, 5000, true, 30),
    );
    feed(receiver, press.slice(2));

    expect(statuses).toEqual(Array(4).fill(TelephoneEventStatus.NotDtmf));
    expect(sink.ended).toEqual([
      { kind: 'ended', digit: 'A', timestamp: 1000, duration: 480, ending: TelephoneEventEnding.End },
    ]);
  });

  it('maps event codes 10–15 to *, #, A–D', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);

    for (let event = 0; event <= 15; event += 1) feed(receiver, keyPress(event, 1000 + event * 2000, 320, event * 200));

    expect(sink.digits).toBe('0123456789*#ABCD');
  });

  it('refuses a payload shorter than one event report', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);

    expect(receiver.receive(new Uint8Array([5, 0x8a, 3]), 0, 3, 1000, true, 0)).toBe(TelephoneEventStatus.TooShort);
    // The length says 4 but the buffer ends before.
    expect(receiver.receive(new Uint8Array([5, 0x8a, 3]), 0, 4, 1000, true, 0)).toBe(TelephoneEventStatus.TooShort);
    expect(sink.reports).toEqual([]);
  });

  it('continues a key held past 0xFFFF units in a new segment (§2.5.1.3) and reports it once', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);

    feed(receiver, [
      { event: 8, timestamp: 10_000, duration: 0, marker: true, at: 0 },
      { event: 8, timestamp: 10_000, duration: 0xff00, at: 8000 },
      { event: 8, timestamp: 10_000, duration: 0xffff, at: 8190 },
      { event: 8, timestamp: 10_000 + 0xffff, duration: 160, at: 8210 },
      { event: 8, timestamp: 10_000 + 0xffff, duration: 800, end: true, at: 8300 },
      { event: 8, timestamp: 10_000 + 0xffff, duration: 800, end: true, at: 8320 },
    ]);

    expect(sink.reports).toEqual([
      { kind: 'began', digit: '8', timestamp: 10_000 },
      { kind: 'ended', digit: '8', timestamp: 10_000, duration: 0xffff + 800, ending: TelephoneEventEnding.End },
    ]);
  });

  it('forgets the last event after a long quiet, so a sender that restarted its timestamps is heard', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink, { forgetAfterMs: 2000 });
    feed(receiver, keyPress(1, 900_000, 480, 0));

    feed(receiver, keyPress(2, 1000, 480, 5000));

    expect(sink.digits).toBe('12');
  });

  it('forgets the current event on reset without reporting it', () => {
    const sink = new RecordingSink();
    const receiver = new TelephoneEventReceiver(sink);
    feed(receiver, keyPress(1, 1000, 480, 0).slice(0, 2));

    receiver.reset();
    receiver.expire(10_000);

    expect(sink.ended).toEqual([]);
    expect(receiver.eventActive).toBe(false);
  });
});
