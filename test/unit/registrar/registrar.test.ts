import { beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../../src/log/logger.js';
import type { Binding, BindingStore } from '../../../src/registrar/binding.js';
import { Registrar } from '../../../src/registrar/registrar.js';
import type { Flow } from '../../../src/sip/transport/types.js';
import { FakeClock } from '../../../src/util/clock.js';
import { parseRequest } from '../../support/messages.js';

class MemoryStore implements BindingStore {
  rows = new Map<string, Binding>();
  loadAll(): Binding[] {
    return [...this.rows.values()];
  }
  save(b: Binding): void {
    this.rows.set(`${b.aor}|${b.contact}`, b);
  }
  remove(aor: string, contact: string): void {
    this.rows.delete(`${aor}|${contact}`);
  }
  removeExpired(now: number): void {
    for (const [k, b] of this.rows) if (b.expiresAt <= now) this.rows.delete(k);
  }
}

const FLOW: Flow = { transport: 'udp', remoteAddress: '192.0.2.10', remotePort: 5062, localAddress: '192.0.2.1', localPort: 5060, connectionId: null };
const ALICE = { extension: '1001', maxContacts: 2 };

function register(opts: { contacts?: string[]; expires?: number; callId?: string; cseq?: number; to?: string }): ReturnType<typeof parseRequest> {
  const lines = [
    'REGISTER sip:voix.test SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK' + Math.random().toString(36).slice(2),
    'Max-Forwards: 70',
    'From: <sip:1001@voix.test>;tag=f1',
    `To: <${opts.to ?? 'sip:1001@voix.test'}>`,
    `Call-ID: ${opts.callId ?? 'call-1'}`,
    `CSeq: ${opts.cseq ?? 1} REGISTER`,
    ...(opts.contacts ?? []).map((c) => `Contact: ${c}`),
    ...(opts.expires !== undefined ? [`Expires: ${opts.expires}`] : []),
    'Content-Length: 0',
    '',
    '',
  ];
  return parseRequest(lines.join('\n'));
}

function contactsOf(headers: ReadonlyArray<readonly [string, string]>): string[] {
  return headers.filter(([n]) => n === 'Contact').map(([, v]) => v);
}

describe('Registrar', () => {
  let clock: FakeClock;
  let store: MemoryStore;
  let registrar: Registrar;

  beforeEach(() => {
    clock = new FakeClock();
    store = new MemoryStore();
    registrar = new Registrar({
      clock,
      store,
      settings: { minExpires: 60, maxExpires: 3600, defaultExpires: 600 },
      logger: createMemoryLogger().logger,
      isLocalHost: (h) => h === 'voix.test',
    });
    registrar.start();
  });

  it('binds a contact with the default expiry and lists it in the 200', () => {
    const res = registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.10:5062>'] }), ALICE, FLOW);
    expect(res.status).toBe(200);
    expect(contactsOf(res.headers)).toEqual(['<sip:1001@192.0.2.10:5062>;expires=600']);
    expect(registrar.lookup('1001')).toMatchObject([{ contact: 'sip:1001@192.0.2.10:5062', transport: 'udp', sourceAddress: '192.0.2.10', sourcePort: 5062 }]);
    expect(store.rows.size).toBe(1);
  });

  it('prefers the contact expires parameter over the Expires header and caps at max_expires', () => {
    const res = registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.10:5062>;expires=7200'], expires: 120 }), ALICE, FLOW);
    expect(contactsOf(res.headers)).toEqual(['<sip:1001@192.0.2.10:5062>;expires=3600']);
  });

  it('answers 423 with Min-Expires for a too short interval and binds nothing (RFC 3261 §10.3 step 7)', () => {
    const res = registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.10:5062>'], expires: 30 }), ALICE, FLOW);
    expect(res.status).toBe(423);
    expect(res.headers).toContainEqual(['Min-Expires', '60']);
    expect(registrar.lookup('1001')).toEqual([]);
  });

  it('refuses a REGISTER for another user’s address-of-record', () => {
    const res = registrar.handleRegister(register({ contacts: ['<sip:x@192.0.2.10>'], to: 'sip:1002@voix.test' }), ALICE, FLOW);
    expect(res.status).toBe(403);
  });

  it('removes a binding with expires 0 and all of them with Contact: *', () => {
    registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.10:5062>', '<sip:1001@192.0.2.11>'] }), ALICE, FLOW);
    expect(registrar.lookup('1001')).toHaveLength(2);
    registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.11>;expires=0'], cseq: 2 }), ALICE, FLOW);
    expect(registrar.lookup('1001').map((b) => b.contact)).toEqual(['sip:1001@192.0.2.10:5062']);
    const res = registrar.handleRegister(register({ contacts: ['*'], expires: 0, cseq: 3 }), ALICE, FLOW);
    expect(res.status).toBe(200);
    expect(contactsOf(res.headers)).toEqual([]);
    expect(store.rows.size).toBe(0);
  });

  it('refuses Contact: * without Expires: 0', () => {
    expect(registrar.handleRegister(register({ contacts: ['*'] }), ALICE, FLOW).status).toBe(400);
  });

  it('refuses an out-of-order CSeq for the same Call-ID and keeps the binding', () => {
    registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.10:5062>'], cseq: 5 }), ALICE, FLOW);
    const res = registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.10:5062>;expires=0'], cseq: 4 }), ALICE, FLOW);
    expect(res.status).toBe(400);
    expect(registrar.lookup('1001')).toHaveLength(1);
  });

  it('answers a query (no Contact) with the current bindings', () => {
    registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.10:5062>'] }), ALICE, FLOW);
    clock.advance(100_000);
    const res = registrar.handleRegister(register({ cseq: 2 }), ALICE, FLOW);
    expect(contactsOf(res.headers)).toEqual(['<sip:1001@192.0.2.10:5062>;expires=500']);
  });

  it('replaces the binding closest to expiry when a new device exceeds max_contacts', () => {
    registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.21>'], expires: 300, callId: 'a' }), ALICE, FLOW);
    registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.22>'], expires: 900, callId: 'b' }), ALICE, FLOW);
    registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.23>'], expires: 900, callId: 'c' }), ALICE, FLOW);
    expect(registrar.lookup('1001').map((b) => b.contact).sort()).toEqual(['sip:1001@192.0.2.22', 'sip:1001@192.0.2.23']);
  });

  it('matches a binding by +sip.instance whatever its URI (RFC 5626 §6)', () => {
    const inst = ';+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1';
    registrar.handleRegister(register({ contacts: [`<sip:1001@192.0.2.10:5062>${inst}`], callId: 'a' }), ALICE, FLOW);
    const res = registrar.handleRegister(register({ contacts: [`<sip:1001@192.0.2.10:6000>${inst}`], callId: 'b' }), ALICE, FLOW);
    expect(contactsOf(res.headers)).toEqual([`<sip:1001@192.0.2.10:6000>;expires=600${inst}`]);
  });

  it('forgets a binding once it expires, in memory and in the store', () => {
    registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.10:5062>'], expires: 60 }), ALICE, FLOW);
    clock.advance(61_000);
    expect(registrar.lookup('1001')).toEqual([]);
    clock.advance(10_000);
    expect(store.rows.size).toBe(0);
  });

  it('loads unexpired bindings from the store at start', () => {
    registrar.handleRegister(register({ contacts: ['<sip:1001@192.0.2.10:5062>'] }), ALICE, FLOW);
    registrar.stop();
    const again = new Registrar({
      clock,
      store,
      settings: { minExpires: 60, maxExpires: 3600, defaultExpires: 600 },
      logger: createMemoryLogger().logger,
      isLocalHost: () => true,
    });
    again.start();
    expect(again.lookup('1001').map((b) => b.contact)).toEqual(['sip:1001@192.0.2.10:5062']);
    again.stop();
  });

  it('logs a new binding at info, a plain refresh at debug, and a refresh from another source at info with where it was', () => {
    const memory = createMemoryLogger();
    const logged = new Registrar({
      clock,
      store,
      settings: { minExpires: 60, maxExpires: 3600, defaultExpires: 600 },
      logger: memory.logger,
      isLocalHost: (h) => h === 'voix.test',
    });
    const contact = '<sip:1001@192.0.2.10:5062>';
    logged.handleRegister(register({ contacts: [contact], cseq: 1 }), ALICE, FLOW);
    logged.handleRegister(register({ contacts: [contact], cseq: 2 }), ALICE, FLOW);
    logged.handleRegister(register({ contacts: [contact], cseq: 3 }), ALICE, { ...FLOW, remotePort: 40000 });
    const lines = memory.lines.filter((l) => l['msg'] === 'registered' || l['msg'] === 'registration refreshed');

    expect(lines.map((l) => [l['level'], l['msg']])).toEqual([
      ['info', 'registered'],
      ['debug', 'registration refreshed'],
      ['info', 'registration refreshed'],
    ]);
    expect(lines[2]).toMatchObject({ source: '192.0.2.10:40000', previousSource: '192.0.2.10:5062', previousTransport: 'udp' });
  });
});
