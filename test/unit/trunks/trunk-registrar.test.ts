import { describe, expect, it } from 'vitest';
import type { TrunkConfig } from '../../../src/config/types.js';
import { TrunkRegistrar, sameRegistration } from '../../../src/trunks/trunk-registrar.js';
import { TRUNK, authorizationIsValid, challenge, trunkWorld, type SentRequest, type TrunkWorld } from './fixtures.js';

const SECOND = 1000;

/** Lets the registrar's queued reload/stop step run (they start after the previous one, in a later microtask). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const OTHER: TrunkConfig = { ...TRUNK, name: 'backup', host: '203.0.113.80', domain: 'voip.backup.example', username: '0980000000', authUsername: '0980000000' };
const LISTED_ONLY: TrunkConfig = { ...TRUNK, name: 'ip-trunk', host: '203.0.113.90', register: false };

function requestsTo(world: TrunkWorld, address: string): SentRequest[] {
  return world.transactions.sent.filter((s) => s.destination.address === address);
}

/** Answers the last request to `address` with a 401, then its authorized retry with 200. */
function registerAt(world: TrunkWorld, address: string, nonce: string): void {
  const pending = requestsTo(world, address).at(-1);
  if (pending === undefined) throw new Error(`nothing sent to ${address}`);
  world.transactions.answer(401, challenge(nonce), pending);
  const retry = requestsTo(world, address).at(-1);
  if (retry === undefined || retry === pending) throw new Error('challenge not answered');
  world.transactions.answer(200, [['Expires', '600']], retry);
}

function startedRegistrar(trunks: readonly TrunkConfig[]): { world: TrunkWorld; registrar: TrunkRegistrar } {
  const world = trunkWorld();
  const registrar = new TrunkRegistrar({ ...world.services, trunks });
  registrar.start();
  return { world, registrar };
}

describe('TrunkRegistrar', () => {
  it('registers every trunk with register: true, and only those, once started', () => {
    const world = trunkWorld();
    const registrar = new TrunkRegistrar({ ...world.services, trunks: [TRUNK, LISTED_ONLY, OTHER] });
    expect(world.transactions.sent).toHaveLength(0);

    registrar.start();

    expect(world.transactions.sent.map((s) => s.destination.address)).toEqual(['192.0.2.50', '203.0.113.80']);
    expect(registrar.status().map((s) => [s.trunk, s.state])).toEqual([
      ['operator', 'registering'],
      ['backup', 'registering'],
    ]);
  });

  it('reload keeps an unchanged trunk registered without a new REGISTER, even when other settings changed', async () => {
    const { world, registrar } = startedRegistrar([TRUNK]);
    registerAt(world, '192.0.2.50', 'n1');
    const sent = world.transactions.sent.length;

    const summary = await registrar.reload([{ ...TRUNK, callerId: '+33140000000', maxCalls: 4, inboundAddresses: ['192.0.2.0/24'] }]);

    expect(summary).toEqual({ added: [], changed: [], removed: [], unchanged: ['operator'] });
    expect(world.transactions.sent).toHaveLength(sent);
    expect(registrar.statusOf('operator')?.state).toBe('registered');
    world.clock.advance(540 * SECOND);
    expect(world.transactions.sent).toHaveLength(sent + 1);
  });

  it('reload unregisters a removed trunk and registers a new one', async () => {
    const { world, registrar } = startedRegistrar([TRUNK]);
    registerAt(world, '192.0.2.50', 'n1');

    const reloading = registrar.reload([OTHER]);
    await settle();
    const unregister = requestsTo(world, '192.0.2.50').at(-1);
    expect(unregister?.request.headers.get('Expires')).toBe('0');
    world.transactions.answer(200, [], unregister);
    const summary = await reloading;

    expect(summary).toEqual({ added: ['backup'], changed: [], removed: ['operator'], unchanged: [] });
    expect(requestsTo(world, '203.0.113.80')).toHaveLength(1);
    expect(registrar.status().map((s) => s.trunk)).toEqual(['backup']);
  });

  it('reload of a changed password unregisters the old binding first, then registers with the new credentials', async () => {
    const { world, registrar } = startedRegistrar([TRUNK]);
    registerAt(world, '192.0.2.50', 'n1');
    const before = world.transactions.sent.length;

    const reloading = registrar.reload([{ ...TRUNK, password: 'the-new-password' }]);
    await settle();
    const unregister = world.transactions.last();
    expect(world.transactions.sent).toHaveLength(before + 1);
    expect(unregister.request.headers.get('Expires')).toBe('0');
    world.transactions.answer(401, challenge('n2'), unregister);
    const unregisterWithOldCredentials = world.transactions.last();
    world.transactions.answer(200, [], unregisterWithOldCredentials);
    await reloading;
    const fresh = world.transactions.last();
    world.transactions.answer(401, challenge('n3'), fresh);
    const freshWithCredentials = world.transactions.last();

    expect(authorizationIsValid(unregisterWithOldCredentials.request)).toBe(true);
    expect(fresh.request.headers.get('Expires')).toBe('600');
    expect(fresh.request.callId).not.toBe(unregister.request.callId);
    expect(authorizationIsValid(freshWithCredentials.request, 'the-new-password')).toBe(true);
    expect(registrar.statusOf('operator')?.state).toBe('registering');
  });

  it('reload turning register off unregisters the trunk', async () => {
    const { world, registrar } = startedRegistrar([TRUNK]);
    registerAt(world, '192.0.2.50', 'n1');

    const reloading = registrar.reload([{ ...TRUNK, register: false }]);
    await settle();
    world.transactions.answer(200);
    const summary = await reloading;

    expect(summary.removed).toEqual(['operator']);
    expect(world.transactions.last().request.headers.get('Expires')).toBe('0');
    expect(registrar.status()).toEqual([]);
  });

  it('reload before start only replaces the list', async () => {
    const world = trunkWorld();
    const registrar = new TrunkRegistrar({ ...world.services, trunks: [TRUNK] });

    await registrar.reload([OTHER]);
    registrar.start();

    expect(world.transactions.sent.map((s) => s.destination.address)).toEqual(['203.0.113.80']);
  });

  it('stop unregisters every registered trunk and resolves when they are answered', async () => {
    const { world, registrar } = startedRegistrar([TRUNK, OTHER]);
    registerAt(world, '192.0.2.50', 'n1');
    registerAt(world, '203.0.113.80', 'n2');

    const stopping = registrar.stop();
    await settle();
    const unregistrations = world.transactions.sent.slice(-2);
    for (const u of unregistrations) world.transactions.answer(200, [], u);
    await stopping;

    expect(unregistrations.map((u) => [u.destination.address, u.request.headers.get('Expires')])).toEqual([
      ['192.0.2.50', '0'],
      ['203.0.113.80', '0'],
    ]);
    expect(registrar.status().map((s) => s.state)).toEqual(['unregistered', 'unregistered']);
    expect(world.clock.pendingCount).toBe(0);
  });

  it('compares only what the registration depends on', () => {
    expect(sameRegistration(TRUNK, { ...TRUNK, maxCalls: 1, srtp: 'required', callerId: '+33100000000' })).toBe(true);
    for (const change of [{ host: 'other.example' }, { port: 5080 }, { transport: 'tcp' as const }, { authUsername: 'x' }, { registerExpires: 3600 }, { domain: 'd.example' }]) {
      expect(sameRegistration(TRUNK, { ...TRUNK, ...change })).toBe(false);
    }
  });
});
