import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { RuntimeConfig, type ConfigChange } from '../../../src/config/runtime-config.js';
import type { VoixConfig } from '../../../src/config/types.js';

function config(ringTimeout: number): VoixConfig {
  const loaded = parseConfig(`server: { domain: voix.test }\ncalls: { ring_timeout: ${ringTimeout} }\n`, 'voix.yaml');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  return loaded.config;
}

describe('RuntimeConfig', () => {
  it('replaces the configuration, counts generations and tells every listener', () => {
    const runtime = new RuntimeConfig(config(30));
    const seen: ConfigChange[] = [];
    runtime.onChange('a', (change) => seen.push(change));
    const first = runtime.current();

    const failures = runtime.replace(config(20));

    expect(failures).toEqual([]);
    expect(runtime.generation()).toBe(2);
    expect(runtime.current().calls.ringTimeoutSeconds).toBe(20);
    expect(seen).toEqual([{ previous: first, current: runtime.current(), generation: 2 }]);
  });

  it('a listener that throws is reported by name and does not stop the others', () => {
    const runtime = new RuntimeConfig(config(30));
    const calls: string[] = [];
    runtime.onChange('trunks', () => {
      throw new Error('trunk "ovh" has no address');
    });
    runtime.onChange('router', () => calls.push('router'));

    const failures = runtime.replace(config(20));

    expect(failures).toEqual([{ listener: 'trunks', message: 'trunk "ovh" has no address' }]);
    expect(calls).toEqual(['router']);
    expect(runtime.current().calls.ringTimeoutSeconds).toBe(20);
  });

  it('listeners sharing a name all hear the change; an unsubscribed one hears nothing more', () => {
    const runtime = new RuntimeConfig(config(30));
    const heard: string[] = [];
    runtime.onChange('trunks', () => heard.push('identifier'));
    runtime.onChange('trunks', () => heard.push('registrar'));
    const off = runtime.onChange('users', () => heard.push('users'));
    off();

    runtime.replace(config(20));

    expect(heard).toEqual(['identifier', 'registrar']);
  });

  it('a view reads the current section at every access', () => {
    const runtime = new RuntimeConfig(config(30));
    const calls = runtime.view((c) => c.calls);
    const { ...before } = calls;

    runtime.replace(config(20));

    expect(before.ringTimeoutSeconds).toBe(30);
    expect(calls.ringTimeoutSeconds).toBe(20);
    expect({ ...calls }).toEqual(runtime.current().calls);
    expect(Reflect.set(calls, 'ringTimeoutSeconds', 5)).toBe(false);
  });
});
