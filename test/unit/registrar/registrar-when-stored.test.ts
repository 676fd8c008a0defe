import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../../src/log/logger.js';
import type { Binding, BindingStore } from '../../../src/registrar/binding.js';
import { Registrar } from '../../../src/registrar/registrar.js';
import { BatchingBindingStore } from '../../../src/store/batching-binding-store.js';
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
const REGISTER = parseRequest(`REGISTER sip:voix.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKstored1
Max-Forwards: 70
From: <sip:1001@voix.test>;tag=f1
To: <sip:1001@voix.test>
Call-ID: stored-1
CSeq: 1 REGISTER
Contact: <sip:1001@192.0.2.10:5062>
Expires: 600
Content-Length: 0

`);

function setup(store: BindingStore): Registrar {
  return new Registrar({
    clock: new FakeClock(),
    store,
    settings: { minExpires: 60, maxExpires: 3600, defaultExpires: 600 },
    logger: createMemoryLogger().logger,
    isLocalHost: (host) => host === 'voix.test',
  });
}

describe('Registrar.whenStored', () => {
  it('calls back at once with a store that writes as it goes', () => {
    const rows = new MemoryStore();
    const registrar = setup(rows);
    const seen: Array<{ error: unknown; rows: number }> = [];

    registrar.handleRegister(REGISTER, { extension: '1001', maxContacts: 2 }, FLOW);
    registrar.whenStored((error) => seen.push({ error, rows: rows.rows.size }));

    expect(seen).toEqual([{ error: null, rows: 1 }]);
  });

  it('calls back once a batching store has written the binding, which stop() does at the latest', () => {
    const rows = new MemoryStore();
    const store = new BatchingBindingStore(rows, { transaction: (work) => work(), schedule: () => undefined });
    const registrar = setup(store);
    const seen: Array<{ error: unknown; rows: number }> = [];

    const result = registrar.handleRegister(REGISTER, { extension: '1001', maxContacts: 2 }, FLOW);
    registrar.whenStored((error) => seen.push({ error, rows: rows.rows.size }));
    const beforeStop = [...seen];
    registrar.stop();

    expect(result.status).toBe(200);
    expect(registrar.lookup('1001')).toHaveLength(1);
    expect(beforeStop).toEqual([]);
    expect(seen).toEqual([{ error: null, rows: 1 }]);
  });
});
