import { expect, it } from 'vitest';
import { useHarness, type BaresipAccount } from '../../harness/index.js';
import { createNatLab } from '../../harness/netns.js';
import {
  TONE_A_HZ,
  TONE_B_HZ,
  establishCall,
  expectHeardTone,
  expectNoCallLeft,
  lastCall,
  letAudioFlow,
  startCallLab,
  startTonePhone,
  waitForCallEnded,
} from '../call-helpers.js';

useHarness();

it('APPEL-NAT-01: a phone behind a NAT (private address, remapped ports) calls a public phone: audio both ways', async () => {
  const nat = await createNatLab();
  const lab = await startCallLab({
    config: {
      server: {
        aliases: ['127.0.0.1', nat.publicAddress],
        listen: { udp: { address: nat.publicAddress }, tcp: { address: nat.publicAddress } },
      },
    },
  });
  const { voix } = lab;
  const server = `${nat.publicAddress}:${voix.ports.udp}`;
  const account = (extension: string): BaresipAccount => {
    const user = voix.users.find((u) => u.extension === extension);
    if (user === undefined) throw new Error(`no user ${extension}`);
    return { user: extension, password: user.password, domain: server, transport: 'udp' };
  };
  // A lives in the private namespace: SIP and RTP from 10.77.x.2, through the router's masquerade.
  const a = await startTonePhone(lab, account('1001'), TONE_A_HZ, {
    netns: nat.phoneNetns,
    localAddress: nat.phoneAddress,
    controlAddress: nat.phoneManagementAddress,
  });
  // B is on the public side, on voix's address: its SIP and its RTP come from the same address (voix
  // accepts a phone's RTP only from the address its SIP came from).
  const b = await startTonePhone(lab, account('1002'), TONE_B_HZ, { localAddress: nat.publicAddress });
  const registrations = await voix.cli(['registrations']);

  await establishCall(a.phone, b.phone, voix, '1002', { host: nat.publicAddress });
  await letAudioFlow(2500);
  const since = voix.mark();
  expect((await a.phone.command('hangup')).ok).toBe(true);
  await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);
  await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);

  // voix saw A at the router's public address and a remapped port, with its private address in Contact.
  const row = new RegExp(`^1001\\s+UDP\\s+${nat.routerPublicAddress.replace(/\./g, '\\.')}:(\\d+)\\s.*@${nat.phoneAddress.replace(/\./g, '\\.')}:`, 'm').exec(registrations.stdout);
  expect(row, registrations.stdout).not.toBeNull();
  const sipPort = Number(row?.[1]);
  expect(sipPort).toBeGreaterThanOrEqual(nat.natPorts.min);
  expect(sipPort).toBeLessThanOrEqual(nat.natPorts.max);
  // A's offer names its private address and port; voix latched leg a onto where A's RTP really came from.
  const offer = a.phone.sipMessages().find((m) => m.firstLine.startsWith('INVITE ') && m.text.includes('m=audio'));
  expect(offer?.text).toContain(`c=IN IP4 ${nat.phoneAddress}`);
  const offeredPort = Number(/^m=audio (\d+) /m.exec(offer?.text ?? '')?.[1]);
  const latched = voix.logs().find((log) => log.msg === 'rtp latched' && log['leg'] === 'a');
  expect(latched).toMatchObject({ address: nat.routerPublicAddress });
  expect(latched?.['port']).not.toBe(offeredPort);
  expect(Number(latched?.['port'])).toBeGreaterThanOrEqual(nat.natPorts.min);
  // Two-way audio: each phone heard the other's tone.
  await expectHeardTone(a.recordDir, TONE_B_HZ, 1.5, 'A (1001, behind the NAT) heard');
  await expectHeardTone(b.recordDir, TONE_A_HZ, 1.5, 'B (1002) heard');
  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 200, cause: 'normal', by: 'caller' });
  await expectNoCallLeft(lab);
});
