/**
 * The running server as the CLI finds it: from the runtime state it stored
 * (store/runtime-state-store.ts), whether that process is still the voix that
 * wrote it, and waiting for it to report a reload.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { ReloadRecord } from '../config/reload-controller.js';
import type { RuntimeState } from '../store/runtime-state-store.js';
import { processExists, processStartTime } from '../util/process-identity.js';

export interface ProcessProbe {
  exists(pid: number): boolean;
  startTime(pid: number): string | null;
}

export const SYSTEM_PROBE: ProcessProbe = { exists: processExists, startTime: processStartTime };

export type ServerLiveness =
  | { readonly running: true; readonly state: RuntimeState }
  | { readonly running: false; readonly state: RuntimeState | null; /** Why not, for the operator. */ readonly reason: string };

export function serverLiveness(state: RuntimeState | null, probe: ProcessProbe = SYSTEM_PROBE): ServerLiveness {
  if (state === null) return { running: false, state, reason: 'voix is not running: it has not run with this data directory yet' };
  if (state.stoppedAt !== null) return { running: false, state, reason: `voix is not running: it stopped at ${new Date(state.stoppedAt).toISOString()}` };
  const gone = `voix is not running: pid ${state.pid} is gone (it did not stop cleanly)`;
  if (!probe.exists(state.pid)) return { running: false, state, reason: gone };
  // A pid reused by another process since a crash: never signal it.
  if (state.processStart !== null && probe.startTime(state.pid) !== state.processStart) return { running: false, state, reason: gone };
  return { running: true, state };
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Polls the runtime state until the server counted more reloads than
 * `reloadsBefore`, and returns that reload's record; null on timeout.
 */
export async function waitForReload(read: () => RuntimeState | null, reloadsBefore: number, options: WaitOptions): Promise<ReloadRecord | null> {
  const deadline = options.now() + options.timeoutMs;
  for (;;) {
    const state = read();
    if (state !== null && state.reloads > reloadsBefore && state.lastReload !== null) return state.lastReload;
    if (options.now() >= deadline) return null;
    await options.sleep(Math.min(options.pollMs, Math.max(0, deadline - options.now())));
  }
}

/** `3h 02m`, `5m 10s`, `42s`: an uptime for people. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (days > 0) return `${days}d ${pad(hours)}h`;
  if (hours > 0) return `${hours}h ${pad(minutes)}m`;
  if (minutes > 0) return `${minutes}m ${pad(seconds)}s`;
  return `${seconds}s`;
}

/** Whether two paths name the same file (symbolic links followed; a missing file compared by its absolute path). */
export function sameFile(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return real(a) === real(b);
}
