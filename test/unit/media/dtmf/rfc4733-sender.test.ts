import { describe, expect, it } from 'vitest';
import { dtmfEventOfDigit, type DtmfDigit } from '../../../../src/media/dtmf/dtmf-digit.js';
import { TelephoneEventReceiver, TelephoneEventEnding } from '../../../../src/media/dtmf/rfc4733-receiver.js';
import { TelephoneEventSender } from '../../../../src/media/dtmf/rfc4733-sender.js';

interface SentPacket {
  readonly payload: string;
  readonly marker: boolean;
  readonly timestamp: number;
  readonly end: boolean;
  readonly duration: number;
}

/** Steps the sender as the player does, once per 20 ms tick, into one reused packet buffer. */
function drain(sender: TelephoneEventSender, limit = 1000): SentPacket[] {
  const packet = new Uint8Array(12 + 4);
  const sent: SentPacket[] = [];
  while (sender.active && sent.length < limit) {
    const length = sender.writeNext(packet, 12);
    sent.push({
      payload: Buffer.from(packet.subarray(12, 12 + length)).toString('hex'),
      marker: sender.marker,
      timestamp: sender.timestamp,
      end: sender.end,
      duration: sender.duration,
    });
  }
  return sent;
}

describe('TelephoneEventSender (RFC 4733 §2.5.1)', () => {
  it('writes digit 5 for 100 ms byte for byte: start with M, updates every 20 ms, the end packet three times', () => {
    const sender = new TelephoneEventSender();

    sender.begin(5, 0x12345678, 800, 10);
    const sent = drain(sender);

    expect(sent.map((packet) => packet.payload)).toEqual([
      '050a00a0', // event 5, E=0, volume 10, duration 160
      '050a0140', // 320
      '050a01e0', // 480
      '050a0280', // 640
      '058a0320', // E=1, 800
      '058a0320',
      '058a0320',
    ]);
    expect(sent.map((packet) => packet.marker)).toEqual([true, false, false, false, false, false, false]);
    expect(sent.every((packet) => packet.timestamp === 0x12345678)).toBe(true);
    expect(sent.map((packet) => packet.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(sender.active).toBe(false);
  });

  it('counts the packets still to send and writes nothing once done', () => {
    const sender = new TelephoneEventSender();
    sender.begin(1, 0, 1600);
    expect(sender.packetsRemaining).toBe(10 + 2);

    const buffer = new Uint8Array(4);
    sender.writeNext(buffer, 0);
    expect(sender.packetsRemaining).toBe(11);
    drain(sender);

    expect(sender.packetsRemaining).toBe(0);
    buffer.fill(0xee);
    expect(sender.writeNext(buffer, 0)).toBe(0);
    expect(Buffer.from(buffer).toString('hex')).toBe('eeeeeeee');
  });

  it('ends on the exact duration when it is not a whole number of packets', () => {
    const sender = new TelephoneEventSender();

    sender.begin(dtmfEventOfDigit('#'), 90_000, 250, 0);

    expect(drain(sender).map((packet) => packet.payload)).toEqual(['0b0000a0', '0b8000fa', '0b8000fa', '0b8000fa']);
  });

  it('sends a tone shorter than a packet as three end packets, the first with the M bit', () => {
    const sender = new TelephoneEventSender();

    sender.begin(dtmfEventOfDigit('D'), 7, 100, 63);
    const sent = drain(sender);

    expect(sent.map((packet) => packet.payload)).toEqual(['0fbf0064', '0fbf0064', '0fbf0064']);
    expect(sent.map((packet) => packet.marker)).toEqual([true, false, false]);
  });

  it('relays a digit of unknown length until stop(), then ends it at the duration already sent', () => {
    const sender = new TelephoneEventSender();
    const buffer = new Uint8Array(4);
    sender.begin(dtmfEventOfDigit('*'), 1000);
    for (let i = 0; i < 3; i += 1) sender.writeNext(buffer, 0);
    expect(sender.duration).toBe(480);
    expect(sender.end).toBe(false);

    sender.stop();
    expect(sender.packetsRemaining).toBe(3);
    const sent = drain(sender);

    expect(sent.map((packet) => packet.payload)).toEqual(['0a8a01e0', '0a8a01e0', '0a8a01e0']);
  });

  it('ends an open event stopped before its first packet after one packet interval', () => {
    const sender = new TelephoneEventSender();
    sender.begin(0, 0);
    sender.stop();

    expect(drain(sender).map((packet) => [packet.payload, packet.marker])).toEqual([
      ['008a00a0', true],
      ['008a00a0', false],
      ['008a00a0', false],
    ]);
  });

  it('ends an open event by itself at the 0xFFFF maximum', () => {
    const sender = new TelephoneEventSender();
    sender.begin(2, 0);

    const sent = drain(sender);

    expect(sent).toHaveLength(Math.ceil(0xffff / 160) + 2);
    expect(sent.at(-1)).toMatchObject({ end: true, duration: 0xffff });
  });

  it('uses other packet intervals (e.g. 50 ms)', () => {
    const sender = new TelephoneEventSender({ unitsPerPacket: 400 });
    sender.begin(3, 0, 1000);

    expect(drain(sender).map((packet) => packet.duration)).toEqual([400, 800, 1000, 1000, 1000]);
  });

  it('replaces a running event on begin', () => {
    const sender = new TelephoneEventSender();
    const buffer = new Uint8Array(4);
    sender.begin(1, 100, 800);
    sender.writeNext(buffer, 0);

    sender.begin(2, 900, 320);

    expect(drain(sender).map((packet) => [packet.payload, packet.marker, packet.timestamp])).toEqual([
      ['020a00a0', true, 900],
      ['028a0140', false, 900],
      ['028a0140', false, 900],
      ['028a0140', false, 900],
    ]);
  });

  it('refuses invalid arguments with a RangeError', () => {
    const sender = new TelephoneEventSender();
    expect(() => sender.begin(-1, 0, 160)).toThrow(RangeError);
    expect(() => sender.begin(256, 0, 160)).toThrow(RangeError);
    expect(() => sender.begin(1, 0, 0)).toThrow(RangeError);
    expect(() => sender.begin(1, 0, 0x10000)).toThrow(RangeError);
    expect(() => sender.begin(1, 0, 160, 64)).toThrow(RangeError);
    expect(() => new TelephoneEventSender({ unitsPerPacket: 0 })).toThrow(RangeError);
    expect(() => new TelephoneEventSender({ endPacketCount: 0 })).toThrow(RangeError);
    sender.begin(1, 0, 160);
    expect(() => sender.writeNext(new Uint8Array(3), 0)).toThrow(RangeError);
  });

  it('is heard by the receiver as one digit per event, with its duration', () => {
    const reports: [DtmfDigit, number, number, TelephoneEventEnding][] = [];
    const receiver = new TelephoneEventReceiver({
      dtmfEnded: (digit, timestamp, duration, ending) => reports.push([digit, timestamp, duration, ending]),
    });
    const sender = new TelephoneEventSender();
    const packet = new Uint8Array(4);
    let now = 0;
    let timestamp = 50_000;

    for (const digit of ['1', '1', '#'] as const) {
      sender.begin(dtmfEventOfDigit(digit), timestamp, 640);
      while (sender.active) {
        const length = sender.writeNext(packet, 0);
        receiver.receive(packet, 0, length, sender.timestamp, sender.marker, now);
        now += 20;
        timestamp += 160;
      }
      now += 100;
      timestamp += 800;
    }

    expect(reports).toEqual([
      ['1', 50_000, 640, TelephoneEventEnding.End],
      ['1', 51_760, 640, TelephoneEventEnding.End],
      ['#', 53_520, 640, TelephoneEventEnding.End],
    ]);
  });
});
