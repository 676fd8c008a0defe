import { expect, it } from 'vitest';
import { useHarness } from '../../harness/index.js';
import { calleeNumber } from '../callee-simulator.js';
import { exportCampaign, startDialerLab, voixCli, waitForCompleted, writeContacts } from '../dialer-helpers.js';

useHarness();

const CONTACTS = 16;

it('AUTO-REPRISE-01: voix killed (kill -9) in the middle of a campaign resumes it after a restart: no contact lost, none called twice for one attempt, the calls in flight reconciled', async () => {
  const lab = await startDialerLab({
    // The real calendar: a restart must not move it. Every hour of the week is open for this test.
    calendarStart: null,
    campaigns: [
      {
        name: 'reprise',
        purpose: 'customer',
        calls_per_second: 2,
        max_calls: 4,
        hours: { weekly: { 'mon-sun': ['00:00-24:00'] }, holidays: 'none' },
        retry: { unknown: { delay: 2, max_retries: 1 } },
      },
    ],
  });
  const { voix, simulator } = lab;
  const phones = Array.from({ length: CONTACTS }, (_, i) => calleeNumber('answer', i + 1));
  await voixCli(voix, ['campaign', 'import', 'reprise', await writeContacts(lab, 'contacts.csv', phones.map((phone) => ({ phone })))]);
  await voixCli(voix, ['campaign', 'start', 'reprise']);

  // Some calls ended, some in flight: the third answered call is a good moment.
  let answered = 0;
  await voix.waitForLog((l) => l.msg === 'answered' && ++answered >= 3, 30_000);
  await voix.process.kill();
  await voix.restart();
  await waitForCompleted(voix, 'reprise', 90_000);

  // voix.logs() holds the run after the restart: the reconciliation is its first work.
  const lostCount = voix.logs().filter((l) => l.msg === 'attempt lost in a crash reconciled').length;
  expect(lostCount, 'calls were in flight when voix was killed').toBeGreaterThan(0);
  const results = await exportCampaign(voix, 'reprise');
  const dialled = await simulator.dialled();
  expect(results.size).toBe(CONTACTS);
  let unknown = 0;
  for (const phone of phones) {
    const contact = results.get(phone);
    const outcomes = contact?.attempts.map((a) => a.outcome) ?? [];
    // Every contact ends answered: at once, or after its lost attempt was reconciled and tried again.
    expect([['answered'], ['unknown', 'answered']], `${phone}: ${outcomes.join(', ')}`).toContainEqual(outcomes);
    expect(contact?.result).toBe('answered');
    unknown += outcomes.filter((o) => o === 'unknown').length;
    // The network saw each recorded attempt once, never one more.
    expect(dialled.get(phone), phone).toBe(outcomes.length);
  }
  expect(unknown).toBe(lostCount);
});
