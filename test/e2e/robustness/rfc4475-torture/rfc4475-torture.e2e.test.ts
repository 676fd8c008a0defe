import { describe, expect, it } from 'vitest';
import { sendWithProbe, startBaresip, startVoix, useHarness, type RawSipTarget, type VoixServer } from '../../harness/index.js';
import { TORTURE_CASES, readTorture, type TortureCase } from '../../../support/rfc4475.js';

useHarness();

type Transport = 'udp' | 'tcp' | 'tls';

/** What a peer should see on this transport for this message. */
function expected(c: TortureCase, transport: Transport): TortureCase['streamAnswer'] | TortureCase['answer'] {
  return transport !== 'udp' && c.streamAnswer !== undefined ? c.streamAnswer : c.answer;
}

async function observe(voix: VoixServer, c: TortureCase, transport: Transport) {
  const port = transport === 'udp' ? voix.ports.udp : transport === 'tcp' ? voix.ports.tcp : voix.ports.tls;
  const target: RawSipTarget = { transport, host: '127.0.0.1', port, ...(transport === 'tls' ? { caFile: voix.caPath ?? '', servername: 'example.com' } : {}) };
  const wantsSilence = expected(c, transport) === 'no-answer-until-body';
  const outcome = await sendWithProbe(target, readTorture(c.file), { timeoutMs: wantsSilence ? 1000 : 5000 });
  return { statuses: outcome.responses.map((r) => r.statusCode), dropped: outcome.dropped, probeAnswered: outcome.probeResponse !== null, closed: outcome.closedByPeer };
}

/**
 * Several torture messages share a top-Via branch, sent-by and method: per
 * RFC 3261 §17.2.3 the later one is a retransmission of the earlier while its
 * transaction lives (32 s over UDP). Such messages go to separate voix
 * instances. The key is read here with the test's own minimal parsing.
 */
function transactionKey(bytes: Buffer): string {
  const lines = bytes.toString('latin1').split(/\r?\n/);
  const headers: string[] = [];
  for (const line of lines.slice(1)) {
    if (line === '') break;
    if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1] += ' ' + line.trim();
    else headers.push(line);
  }
  const value = (names: string[]) => {
    const h = headers.find((l) => names.includes(l.slice(0, l.indexOf(':')).trim().toLowerCase()));
    return h === undefined ? '' : h.slice(h.indexOf(':') + 1).trim();
  };
  const via = value(['via', 'v']).split(',')[0] ?? '';
  const host = /SIP\s*\/\s*[\d.]+\s*\/\s*\S+\s+([^;,\s]+)/i.exec(via)?.[1] ?? '';
  // A sent-by without port means the default port (RFC 3261 §18.2.2).
  const sentBy = /:\d+$/.test(host) ? host.toLowerCase() : `${host.toLowerCase()}:5060`;
  const branch = /branch\s*=\s*([^;,\s]+)/i.exec(via)?.[1] ?? '';
  const method = value(['cseq']).split(/\s+/).pop() ?? '';
  return `${branch}|${sentBy}|${method}`;
}

function rounds(cases: readonly TortureCase[]): TortureCase[][] {
  const out: Array<{ keys: Set<string>; cases: TortureCase[] }> = [];
  for (const c of cases) {
    const key = transactionKey(readTorture(c.file));
    let round = out.find((r) => !r.keys.has(key));
    if (round === undefined) {
      round = { keys: new Set(), cases: [] };
      out.push(round);
    }
    round.keys.add(key);
    round.cases.push(c);
  }
  return out.map((r) => r.cases);
}

describe('ROB-4475-01', () => {
  it('ROB-4475-01: every RFC 4475 message is answered or dropped as expected over UDP, TCP and TLS, and voix keeps serving', async () => {
    const mismatches: string[] = [];
    let voix: VoixServer | null = null;
    const groups = rounds(TORTURE_CASES);
    for (const group of groups) {
      if (voix !== null) await voix.stop();
      voix = await startVoix({ config: { server: { domain: 'example.com', aliases: ['127.0.0.1'] } } });
      for (const transport of ['udp', 'tcp', 'tls'] as const) {
        for (const c of group) {
          const seen = await observe(voix, c, transport);
          const want = expected(c, transport);
          let ok: boolean;
          if (want === 'drop') ok = seen.dropped;
          else if (want === 'no-answer-until-body') ok = seen.statuses.length === 0 && !seen.probeAnswered && !seen.closed;
          else if (Array.isArray(want)) ok = JSON.stringify(seen.statuses) === JSON.stringify(want) && seen.probeAnswered;
          else if (c.closesStream === true && transport !== 'udp') ok = JSON.stringify(seen.statuses) === JSON.stringify([want]) && seen.closed;
          else ok = JSON.stringify(seen.statuses) === JSON.stringify([want]) && seen.probeAnswered;
          if (!ok) mismatches.push(`${transport} ${c.file} (§${c.section}): expected ${JSON.stringify(want)}, saw ${JSON.stringify(seen)}`);
        }
      }
      expect(voix.process.running).toBe(true);
    }
    const phone = await startBaresip({ account: voix!.account('1001', 'udp') });
    const registration = await phone.waitForRegistration(10_000);

    expect(groups.flat()).toHaveLength(49);
    expect(mismatches).toEqual([]);
    expect(voix!.process.running).toBe(true);
    expect(registration).toMatchObject({ ok: true, status: '200 OK' });
  });
});
