import { expect, it } from 'vitest';
import { useHarness } from '../../harness/index.js';
import { calleeNumber } from '../callee-simulator.js';
import { exportCampaign, ms, startDialerLab, voixCli, waitForCompleted, writeContacts } from '../dialer-helpers.js';

useHarness();

it('AUTO-REGLES-01: consent: a prospecting campaign never dials contacts without recorded consent and reports them; a customer campaign dials them', async () => {
  const lab = await startDialerLab({
    campaigns: [
      { name: 'prospection', purpose: 'prospecting', calls_per_second: 5 },
      { name: 'clients', purpose: 'customer', calls_per_second: 5 },
    ],
  });
  const { voix, simulator } = lab;
  const prospects = [
    { phone: calleeNumber('answer', 1), consent: 'oui' as const },
    { phone: calleeNumber('answer', 2), consent: 'non' as const },
    { phone: calleeNumber('answer', 3) },
  ];
  const customers = [{ phone: calleeNumber('answer', 11) }, { phone: calleeNumber('answer', 12), consent: 'non' as const }];
  await voixCli(voix, ['campaign', 'import', 'prospection', await writeContacts(lab, 'prospects.csv', prospects)]);
  await voixCli(voix, ['campaign', 'import', 'clients', await writeContacts(lab, 'clients.csv', customers)]);
  await voixCli(voix, ['campaign', 'start', 'prospection']);
  await voixCli(voix, ['campaign', 'start', 'clients']);
  await waitForCompleted(voix, 'prospection', 60_000);
  await waitForCompleted(voix, 'clients', 60_000);

  const prospection = await exportCampaign(voix, 'prospection');
  expect(prospects.map((p) => [p.phone, prospection.get(p.phone)?.result, prospection.get(p.phone)?.attempts.length])).toEqual([
    [prospects[0]!.phone, 'answered', 1],
    [prospects[1]!.phone, 'no-consent', 0],
    [prospects[2]!.phone, 'no-consent', 0],
  ]);
  const clients = await exportCampaign(voix, 'clients');
  expect(customers.map((c) => clients.get(c.phone)?.result)).toEqual(['answered', 'answered']);
  const dialled = await simulator.dialled();
  expect([...dialled.keys()].sort()).toEqual([prospects[0]!.phone, customers[0]!.phone, customers[1]!.phone].sort());
});

/** Calendar instants (Paris) when the law forbids calling, and when calling may start again. */
const CLOSED: ReadonlyArray<readonly [string, string, string]> = [
  ['on a Saturday', '2026-12-05T11:00:00+01:00', '2026-12-07T09:00:00.000Z'],
  ['at 13:30 on a Tuesday', '2026-12-01T13:30:00+01:00', '2026-12-01T13:00:00.000Z'],
  ['on 14 July', '2026-07-14T11:00:00+02:00', '2026-07-15T08:00:00.000Z'],
];

it.each(CLOSED)('AUTO-REGLES-01: calling hours: nothing is dialled %s; the contact waits for the next legal hour', async (_when, calendarStart, reopens) => {
  const lab = await startDialerLab({ calendarStart, campaigns: [{ name: 'horaires', purpose: 'customer' }] });
  const { voix, simulator } = lab;
  const phone = calleeNumber('answer', 1);
  await voixCli(voix, ['campaign', 'import', 'horaires', await writeContacts(lab, 'contacts.csv', [{ phone }])]);
  const since = voix.mark();
  await voixCli(voix, ['campaign', 'start', 'horaires']);
  await voix.waitForLog((l) => l.msg === 'campaign running' && l['campaign'] === 'horaires', 10_000, since);
  // Two more turns of the dialer (it rereads states every second).
  await new Promise((resolve) => setTimeout(resolve, 2500));

  const contact = (await exportCampaign(voix, 'horaires')).get(phone);
  expect(contact).toMatchObject({ result: null, waitingReason: 'outside-hours', attempts: [] });
  expect(new Date(ms(contact?.nextAttemptAt ?? 0)).toISOString()).toBe(reopens);
  expect((await simulator.dialled()).size).toBe(0);
});

it('AUTO-REGLES-01: attempts per 30 days: a number busy at every attempt is called 4 times; the 5th attempt within 30 days is refused until the first leaves the period', async () => {
  const lab = await startDialerLab({
    campaigns: [{ name: 'limite', purpose: 'customer', calls_per_second: 5, retry: { busy: { delay: 1, max_retries: 10 } } }],
  });
  const { voix, simulator } = lab;
  const phone = calleeNumber('busy', 1);
  await voixCli(voix, ['campaign', 'import', 'limite', await writeContacts(lab, 'contacts.csv', [{ phone }])]);
  const since = voix.mark();
  await voixCli(voix, ['campaign', 'start', 'limite']);
  await voix.waitForLog((l) => l.msg === 'contact postponed' && l['reason'] === 'attempt-limit', 30_000, since);

  const contact = (await exportCampaign(voix, 'limite')).get(phone);
  expect(contact?.attempts.map((a) => a.outcome)).toEqual(['busy', 'busy', 'busy', 'busy']);
  expect(contact).toMatchObject({ result: null, waitingReason: 'attempt-limit' });
  const first = ms(contact?.attempts[0]?.startedAt ?? 0);
  expect(ms(contact?.nextAttemptAt ?? 0)).toBe(first + 30 * 86_400_000);
  expect((await simulator.dialled()).get(phone)).toBe(4);
});
