import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runSipp, useHarness } from '../../harness/index.js';
import { expectNoCallLeft, lastCall, startCallLab, waitForCallEnded } from '../../calls/call-helpers.js';
import { menuEvents } from '../ivr-helpers.js';

useHarness();

const HERE = dirname(fileURLToPath(import.meta.url));
/** RFC 4733 events for key 2 as SIPp ships them (payload type 101). */
const KEY_2_PCAP = '/usr/share/sip-tester/dtmf_2833_2.pcap';
const CONFIG = {
  auth: { algorithms: ['MD5'] },
  messages: [{ number: '8000', name: 'Horaires', prompt: { text: 'Nos bureaux sont ouverts du lundi au vendredi.' } }],
  menus: [
    {
      number: '3000',
      name: 'Standard',
      greeting: { text: 'Bienvenue chez Voix. Pour connaître nos horaires, tapez 2.' },
      options: { '2': '8000' },
      direct_dial: false,
    },
  ],
};

const KEY_BY_RFC4733 = `  <nop>
    <action>
      <exec play_pcap_audio="${KEY_2_PCAP}"/>
    </action>
  </nop>`;

const KEY_BY_INFO = `  <send retrans="500"><![CDATA[
INFO [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:1001@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 3 INFO
Contact: <sip:1001@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=2
Duration=160
]]></send>

  <recv response="200"/>`;

async function pressTwoInMenu(way: 'rfc4733' | 'sip-info'): Promise<void> {
  const lab = await startCallLab({ config: CONFIG });
  const { voix } = lab;
  const password = voix.users.find((u) => u.extension === '1001')?.password ?? '';
  const scenario = join(lab.dir, `uac-menu-${way}.xml`);
  const template = await readFile(join(HERE, 'uac-menu-key-expect-bye.xml'), 'utf8');
  await writeFile(scenario, template.replace('{{key}}', way === 'rfc4733' ? KEY_BY_RFC4733 : KEY_BY_INFO));

  const since = voix.mark();
  const caller = await runSipp({
    scenario,
    remote: `127.0.0.1:${voix.ports.udp}`,
    service: '3000',
    authUser: '1001',
    authPassword: password,
    calls: 1,
    timeoutMs: 30_000,
  });
  const callEnded = await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);

  expect(caller.exitCode, `${caller.errors}\n${caller.messages}`).toBe(0);
  expect(caller.successful).toBe(1);
  if (way === 'sip-info') expect(caller.messages).toMatch(/^SIP\/2\.0 200 [^\n]*\n(?:[^\n]+\n)*CSeq: 3 INFO/m);
  const events = menuEvents(voix.logs(), since);
  expect(events.filter(([msg]) => msg === 'dtmf')).toEqual([['dtmf', { digit: '2', source: way }]]);
  expect(events.filter(([msg]) => msg === 'menu option' || msg === 'announcement played')).toEqual([
    ['menu option', { menu: '3000', key: '2', choice: '8000' }],
    ['announcement played', { message: 'message 8000' }],
  ]);
  expect(callEnded).toMatchObject({ by: 'voix', cause: 'normal', status: 200 });
  expect(cdr).toMatchObject({ caller: '1001', callee: '3000', status: 200, cause: 'normal', by: 'voix' });
  await expectNoCallLeft(lab);
}

it('SVI-SIPP-01: SIPp presses 2 in menu 3000 with RFC 4733 packets from SIPp’s DTMF pcap: message 8000, then voix hangs up', async () => {
  await pressTwoInMenu('rfc4733');
});

it('SVI-SIPP-01: SIPp presses 2 in menu 3000 with a SIP INFO (application/dtmf-relay): message 8000, then voix hangs up', async () => {
  await pressTwoInMenu('sip-info');
});
