import { expect, it } from 'vitest';
import { useHarness } from '../../harness/index.js';
import { calleeNumber, type CalleeBehaviour } from '../callee-simulator.js';
import { exportCampaign, ms, startDialerLab, voixCli, waitForCompleted, writeContacts } from '../dialer-helpers.js';

useHarness();

/** How many contacts of each kind: 52 in all, two of them on the do-not-call list before the start. */
/** The behaviours of this campaign (answering machines have their own case). */
type Behaviour = Exclude<CalleeBehaviour, 'machine' | 'person' | 'press-1'>;
const MIX: ReadonlyArray<readonly [Behaviour, number]> = [
  ['answer', 22],
  ['busy', 8],
  ['no-answer', 6],
  ['fail', 6],
  ['opt-out', 5],
  ['congestion', 5],
];
const CALLS_PER_SECOND = 5;
const MAX_CALLS = 8;

const EXPECTED: Readonly<Record<Behaviour, { result: string; attempts: number; status: number }>> = {
  answer: { result: 'answered', attempts: 1, status: 200 },
  // Retried once after 3 s, busy again.
  busy: { result: 'busy', attempts: 2, status: 486 },
  // voix cancels at the ring timeout; not retried in this campaign.
  'no-answer': { result: 'no-answer', attempts: 1, status: 487 },
  fail: { result: 'failed', attempts: 1, status: 404 },
  'opt-out': { result: 'opted-out', attempts: 1, status: 200 },
  congestion: { result: 'congestion', attempts: 2, status: 503 },
};

it('AUTO-CAMPAGNE-01: a campaign of 52 contacts against a simulated network ends with every outcome right, within its pace, retries as configured, do-not-call respected, opt-out recorded', async () => {
  const lab = await startDialerLab({
    campaigns: [
      {
        name: 'relance',
        purpose: 'customer',
        calls_per_second: CALLS_PER_SECOND,
        max_calls: MAX_CALLS,
        ring_time: 5,
        retry: { busy: { delay: 3, max_retries: 1 }, no_answer: { max_retries: 0 }, failed: { max_retries: 0 }, congestion: { delay: 2, max_retries: 1 } },
      },
    ],
  });
  const { voix, simulator } = lab;
  const contacts = MIX.flatMap(([behaviour, n]) => Array.from({ length: n }, (_, i) => ({ behaviour, phone: calleeNumber(behaviour, i + 1) })));
  const doNotCall = [contacts[0]!.phone, contacts[1]!.phone];
  const file = await writeContacts(lab, 'contacts.csv', contacts.map((c, i) => ({ phone: c.phone, firstName: `Contact${i}` })));

  await voixCli(voix, ['campaign', 'import', 'relance', file]);
  for (const phone of doNotCall) await voixCli(voix, ['dnc', 'add', phone]);
  const since = voix.mark();
  await voixCli(voix, ['campaign', 'start', 'relance']);
  await waitForCompleted(voix, 'relance', 120_000, since);

  const results = await exportCampaign(voix, 'relance');
  const dialled = await simulator.dialled();
  expect(results.size).toBe(contacts.length);
  for (const { behaviour, phone } of contacts) {
    const contact = results.get(phone);
    if (doNotCall.includes(phone)) {
      expect(contact, phone).toMatchObject({ result: 'do-not-call', attempts: [] });
      expect(dialled.get(phone), `${phone} is on the do-not-call list`).toBeUndefined();
      continue;
    }
    const expected = EXPECTED[behaviour];
    expect({ phone, result: contact?.result, attempts: contact?.attempts.length }).toEqual({ phone, result: expected.result, attempts: expected.attempts });
    expect(contact?.attempts.every((a) => a.sipStatus === expected.status), `${phone}: ${JSON.stringify(contact?.attempts)}`).toBe(true);
    // No contact called twice for one attempt: the network saw exactly the recorded attempts.
    expect(dialled.get(phone), phone).toBe(expected.attempts);
  }
  // Retries came after their delay.
  for (const contact of results.values()) {
    const [first, second] = contact.attempts;
    if (first === undefined || second === undefined) continue;
    const delay = first.outcome === 'busy' ? 3000 : 2000;
    expect(ms(second.startedAt) - ms(first.endedAt ?? 0), contact.phone).toBeGreaterThanOrEqual(delay - 50);
  }

  // Pace and concurrency, from voix's own records (with slack: this is not a timing benchmark).
  const attempts = [...results.values()].flatMap((c) => c.attempts).map((a) => ({ start: ms(a.startedAt), end: ms(a.endedAt ?? 0) }));
  const starts = attempts.map((a) => a.start).sort((a, b) => a - b);
  const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
  // The pacer keeps a grid of 200 ms; calls owed after a late wake-up are made up at twice the rate at most.
  expect(Math.min(...gaps), 'never two starts closer than half an interval').toBeGreaterThanOrEqual(1000 / CALLS_PER_SECOND / 2 - 20);
  const first = starts[0] ?? 0;
  const last = starts.at(-1) ?? 0;
  expect(((starts.length - 1) * 1000) / (last - first), 'no more than 5 calls per second on average').toBeLessThanOrEqual(CALLS_PER_SECOND * 1.02);
  for (const t of starts) {
    const inOneSecond = starts.filter((s) => s >= t && s < t + 1000).length;
    expect(inOneSecond, 'calls owed after a late wake-up are made up at twice the rate at most').toBeLessThanOrEqual(2 * CALLS_PER_SECOND);
    const inFlight = attempts.filter((a) => a.start <= t && a.end > t).length;
    expect(inFlight).toBeLessThanOrEqual(MAX_CALLS);
  }

  // The opt-outs are on the do-not-call list, next to the two numbers added by hand.
  const list = JSON.parse(await voixCli(voix, ['dnc', 'list', '--json'])) as Array<{ phone: string }>;
  const optOuts = contacts.filter((c) => c.behaviour === 'opt-out').map((c) => c.phone);
  expect(list.map((e) => e.phone).sort()).toEqual([...doNotCall, ...optOuts].sort());
  // The administration API says the same as the export.
  const api = (await (await fetch(`${lab.adminUrl}/api/campaigns/relance`)).json()) as { state: string; contacts: number; done: number; results: Record<string, number> };
  const counted: Record<string, number> = {};
  for (const c of results.values()) counted[c.result ?? 'none'] = (counted[c.result ?? 'none'] ?? 0) + 1;
  expect(api).toMatchObject({ state: 'completed', contacts: contacts.length, done: contacts.length, results: counted });
  const simulated = await simulator.stop();
  expect(simulated.failed, simulated.errors).toBe(0);
});
