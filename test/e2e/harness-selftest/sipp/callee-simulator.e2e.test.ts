/**
 * The dialer's callee simulator (test/e2e/dialer/callee-simulator.xml)
 * against SIPp callers: each number range gets its behaviour, all of them
 * at once when the calls come together, and dialled() counts the INVITEs
 * per number from the simulator's <log> lines.
 */
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { calleeNumber, startCalleeSimulator, type CalleeSimulator } from '../../dialer/callee-simulator.js';
import { registerCleanup, useHarness } from '../../harness/cleanup.js';
import { EventLog } from '../../harness/event-log.js';
import { getFreePort } from '../../harness/ports.js';
import { parseRtp, type RtpPacket } from '../../harness/rtp.js';
import { runSipp, startSipp, type SippOptions, type SippResult } from '../../harness/sipp.js';

useHarness();

const ANSWERED_CALLER = fileURLToPath(new URL('./uac-invite-expect-200-hold-then-bye.xml', import.meta.url));
const REJECTED_CALLER = fileURLToPath(new URL('./uac-invite-expect-rejection-then-ack.xml', import.meta.url));
const CANCELLING_CALLER = fileURLToPath(new URL('./uac-invite-cancel-on-ringing-expect-487.xml', import.meta.url));

/** The opt-out callee presses 9 one second after the ACK, for 0.14 s: the caller hangs up well after. */
const OPT_OUT_HOLD_MS = 3000;
/** RFC 4733 §2.3: payload type of telephone-event in the simulator's answer, and event 9 (digit 9). */
const TELEPHONE_EVENT = 101;
const DIGIT_9 = 9;

interface TracedMessage {
  readonly direction: 'sent' | 'received';
  readonly firstLine: string;
  readonly cseq: string;
  readonly text: string;
}

/** The SIP messages of a SIPp -trace_msg, in order. */
function traced(result: SippResult): TracedMessage[] {
  return result.messages.split(/^-{10,}.*$/m).flatMap((block) => {
    const direction = /message (sent|received)/.exec(block)?.[1];
    const firstLine = /^(?:SIP\/2\.0 \d{3} .*|[A-Z]+ \S+ SIP\/2\.0)\r?$/m.exec(block)?.[0].trim();
    if ((direction !== 'sent' && direction !== 'received') || firstLine === undefined) return [];
    return [{ direction, firstLine, cseq: /^CSeq: *([^\r\n]*)/m.exec(block)?.[1] ?? '', text: block }];
  });
}

/** `<status> <CSeq>` of every response the caller received, e.g. `180 1 INVITE`. */
function responsesReceived(caller: SippResult): string[] {
  return traced(caller)
    .filter((message) => message.direction === 'received' && message.firstLine.startsWith('SIP/2.0 '))
    .map((message) => `${message.firstLine.split(' ')[1] ?? ''} ${message.cseq}`);
}

/** The last response to the INVITE, `<status> 1 INVITE`. */
function finalResponse(caller: SippResult): string | undefined {
  return responsesReceived(caller).filter((response) => response.endsWith(' 1 INVITE')).pop();
}

function viaLines(text: string): string[] {
  return text.match(/^Via: [^\r\n]*/gm) ?? [];
}

function call(simulator: CalleeSimulator, scenario: string, number: string, options: Partial<SippOptions> = {}): SippOptions {
  return { scenario, remote: `127.0.0.1:${simulator.port}`, service: number, calls: 1, timeoutMs: 15_000, ...options };
}

function answeredCall(simulator: CalleeSimulator, number: string, holdMs: number, offerPort: number): SippOptions {
  return call(simulator, ANSWERED_CALLER, number, { keys: { offer_port: String(offerPort) }, variables: { holdMs: String(holdMs) } });
}

/** A UDP socket on 127.0.0.1 standing for the caller's RTP port: the RTP packets it receives. */
async function listenForRtp(): Promise<{ port: number; packets: EventLog<RtpPacket> }> {
  const packets = new EventLog<RtpPacket>();
  const socket = createSocket('udp4');
  registerCleanup('close RTP sink', () => new Promise<void>((resolve) => socket.close(() => resolve())));
  socket.on('message', (datagram) => {
    const packet = parseRtp(datagram);
    if (packet !== null) packets.push(packet);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { port: socket.address().port, packets };
}

/** RFC 4733 §2.3: the E bit, first bit of the second payload byte. */
function isEndOfEvent(packet: RtpPacket): boolean {
  return packet.payloadType === TELEPHONE_EVENT && ((packet.payload[1] ?? 0) & 0x80) !== 0;
}

describe('callee simulator', () => {
  it('numbers +336BBxxxxxx are valid French mobile numbers', () => {
    const behaviours = ['answer', 'busy', 'no-answer', 'fail', 'opt-out', 'congestion'] as const;
    const numbers = behaviours.flatMap((behaviour) => [0, 1, 999_999].map((index) => calleeNumber(behaviour, index)));

    expect(calleeNumber('answer', 1)).toBe('+33610000001');
    expect(numbers.filter((number) => parsePhoneNumberFromString(number)?.isValid() !== true)).toEqual([]);
    expect(new Set(numbers.map((number) => `${parsePhoneNumberFromString(number)?.country} ${parsePhoneNumberFromString(number)?.getType()}`))).toEqual(
      new Set(['FR MOBILE']),
    );
    expect(() => calleeNumber('answer', 1_000_000)).toThrow(RangeError);
  });

  it("answer (10): 180, 200 with PCMU and telephone-event, then 200 to the caller's BYE", async () => {
    const simulator = await startCalleeSimulator();
    const number = calleeNumber('answer', 1);

    const caller = await runSipp(answeredCall(simulator, number, 0, await getFreePort()));
    const callee = await simulator.stop();

    expect(caller.exitCode, caller.errors).toBe(0);
    expect(responsesReceived(caller)).toEqual(['180 1 INVITE', '200 1 INVITE', '200 2 BYE']);
    const answer = traced(caller).find((message) => message.firstLine === 'SIP/2.0 200 OK' && message.cseq === '1 INVITE');
    expect(answer?.text).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r?$/m);
    expect(answer?.text).toContain('a=rtpmap:101 telephone-event/8000');
    expect(callee).toMatchObject({ successful: 1, failed: 0 });
    expect(await simulator.dialled()).toEqual(new Map([[number, 1]]));
  });

  it.each([
    ['busy (20)', calleeNumber('busy', 2), ['100 1 INVITE', '486 1 INVITE']],
    ['fail (40)', calleeNumber('fail', 4), ['404 1 INVITE']],
    ['congestion (60)', calleeNumber('congestion', 6), ['503 1 INVITE']],
    ['a number out of the table', '+33600000007', ['404 1 INVITE']],
  ])('%s, %s: the caller gets %j and its ACK ends the call', async (_name, number, responses) => {
    const simulator = await startCalleeSimulator();

    const caller = await runSipp(call(simulator, REJECTED_CALLER, number));
    const callee = await simulator.stop();

    expect(caller.exitCode, caller.errors).toBe(0);
    expect(responsesReceived(caller)).toEqual(responses);
    expect(callee).toMatchObject({ successful: 1, failed: 0 });
    expect(await simulator.dialled()).toEqual(new Map([[number, 1]]));
  });

  it("no answer (30): 180 until the caller's CANCEL, 200 to it, then 487 with the INVITE's Via lines and CSeq", async () => {
    const simulator = await startCalleeSimulator();
    const number = calleeNumber('no-answer', 3);

    const caller = await runSipp(call(simulator, CANCELLING_CALLER, number));
    const callee = await simulator.stop();

    expect(caller.exitCode, caller.errors).toBe(0);
    expect(responsesReceived(caller)).toEqual(['180 1 INVITE', '200 1 CANCEL', '487 1 INVITE']);
    const messages = traced(caller);
    const invite = messages.find((message) => message.direction === 'sent' && message.firstLine.startsWith('INVITE '));
    const cancel = messages.find((message) => message.direction === 'sent' && message.firstLine.startsWith('CANCEL '));
    const terminated = messages.find((message) => message.firstLine === 'SIP/2.0 487 Request Terminated');
    // The INVITE came "through a proxy" (two Vias); its CANCEL has only the top one.
    expect(viaLines(invite?.text ?? '')).toHaveLength(2);
    expect(viaLines(cancel?.text ?? '')).toHaveLength(1);
    expect(viaLines(terminated?.text ?? '')).toEqual(viaLines(invite?.text ?? ''));
    expect(callee).toMatchObject({ successful: 1, failed: 0 });
    expect(await simulator.dialled()).toEqual(new Map([[number, 1]]));
  });

  it("opt out (50): answered, then the RFC 4733 events of digit 9 reach the caller's RTP port before its BYE", async () => {
    const simulator = await startCalleeSimulator();
    const number = calleeNumber('opt-out', 5);
    const rtp = await listenForRtp();

    const caller = await startSipp(answeredCall(simulator, number, OPT_OUT_HOLD_MS, rtp.port));
    await rtp.packets.waitFor(isEndOfEvent, 10_000, {
      describe: (seen) => `no end of a telephone-event among ${seen.length} RTP packets`,
    });
    const callerResult = await caller.result();
    const callee = await simulator.stop();

    expect(callerResult.exitCode, callerResult.errors).toBe(0);
    expect(responsesReceived(callerResult)).toEqual(['180 1 INVITE', '200 1 INVITE', '200 2 BYE']);
    const events = rtp.packets.items().map((packet) => [packet.payloadType, packet.payload[0]]);
    expect(events.length).toBeGreaterThan(1);
    expect(new Set(events.map((event) => event.join('/')))).toEqual(new Set([`${TELEPHONE_EVENT}/${DIGIT_9}`]));
    expect(callee).toMatchObject({ successful: 1, failed: 0 });
    expect(await simulator.dialled()).toEqual(new Map([[number, 1]]));
  });

  it('takes every behaviour at once, and dialled() counts the INVITEs per number while it runs', async () => {
    const simulator = await startCalleeSimulator();
    const numbers = {
      answer: calleeNumber('answer', 11),
      busy: calleeNumber('busy', 12),
      noAnswer: calleeNumber('no-answer', 13),
      fail: calleeNumber('fail', 14),
      optOut: calleeNumber('opt-out', 15),
      congestion: calleeNumber('congestion', 16),
    };

    const callers = await Promise.all([
      runSipp(answeredCall(simulator, numbers.answer, 0, await getFreePort())),
      runSipp(call(simulator, REJECTED_CALLER, numbers.busy)),
      runSipp(call(simulator, CANCELLING_CALLER, numbers.noAnswer)),
      runSipp(call(simulator, REJECTED_CALLER, numbers.fail)),
      runSipp(answeredCall(simulator, numbers.optOut, OPT_OUT_HOLD_MS, await getFreePort())),
      runSipp(call(simulator, REJECTED_CALLER, numbers.congestion)),
    ]);
    // The dialer's retry of a busy number is a new call to the same number.
    const retry = await runSipp(call(simulator, REJECTED_CALLER, numbers.busy));
    const dialled = await simulator.dialled();
    const callee = await simulator.stop();

    expect([...callers, retry].map((caller) => ({ exitCode: caller.exitCode, final: finalResponse(caller) }))).toEqual([
      { exitCode: 0, final: '200 1 INVITE' },
      { exitCode: 0, final: '486 1 INVITE' },
      { exitCode: 0, final: '487 1 INVITE' },
      { exitCode: 0, final: '404 1 INVITE' },
      { exitCode: 0, final: '200 1 INVITE' },
      { exitCode: 0, final: '503 1 INVITE' },
      { exitCode: 0, final: '486 1 INVITE' },
    ]);
    expect(dialled).toEqual(
      new Map([
        [numbers.answer, 1],
        [numbers.busy, 2],
        [numbers.noAnswer, 1],
        [numbers.fail, 1],
        [numbers.optOut, 1],
        [numbers.congestion, 1],
      ]),
    );
    expect(callee).toMatchObject({ successful: 7, failed: 0 });
    expect(callee.logs.match(/^INVITE \+336\d{8} call-id=\S+$/gm)).toHaveLength(7);
  });
});
