/**
 * Where a process's anonymous memory lies, from snapshots of
 * /proc/<pid>/smaps taken during a soak (bench/soak.ts): the V8 heaps are
 * read from /metrics, but what lies outside them (malloc, thread stacks)
 * shows only in the mappings.
 *
 *   npx tsx bench/smaps.ts sample <pid> <dir> [--every 600]
 *        copies /proc/<pid>/smaps to <dir>/smaps-<minute>.txt every --every
 *        seconds (minute 000 at once) until the process exits
 *   npx tsx bench/smaps.ts report <dir>
 *        the anonymous memory of each snapshot, by kind of mapping
 *
 * Kinds (glibc on x86-64; a heuristic, not a proof):
 * - the main malloc arena: the [heap] mapping (brk);
 * - the other malloc arenas: anonymous mappings starting on a 64 MiB
 *   boundary, at most 64 MiB long (glibc's HEAP_MAX_SIZE: each thread that
 *   mallocs gets one of these);
 * - the rest of the anonymous mappings: V8's heap pages (256 KiB), its code
 *   and large objects, thread stacks, mmap'd large mallocs;
 * - anonymous pages of file mappings (the relocated data of node and its
 *   libraries).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { table } from './relay-machine.js';

export interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly name: string;
  readonly anonymousKiB: number;
}

export function parseSmaps(text: string): Mapping[] {
  const mappings: Mapping[] = [];
  let current: { start: bigint; end: bigint; name: string; anonymousKiB: number } | null = null;
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header !== null) {
      current = { start: BigInt(`0x${header[1]}`), end: BigInt(`0x${header[2]}`), name: (header[3] ?? '').trim(), anonymousKiB: 0 };
      mappings.push(current);
      continue;
    }
    const anonymous = /^Anonymous:\s+(\d+) kB/.exec(line);
    if (anonymous !== null && current !== null) current.anonymousKiB = Number(anonymous[1]);
  }
  return mappings;
}

const ARENA = 64n << 20n;

export type Kind = 'main malloc arena' | 'other malloc arenas' | 'other anonymous' | 'file mappings';

export function kindOf(mapping: Mapping): Kind {
  if (mapping.name === '[heap]') return 'main malloc arena';
  if (mapping.name !== '' && !mapping.name.startsWith('[')) return 'file mappings';
  if (mapping.name === '' && mapping.start % ARENA === 0n && mapping.end - mapping.start <= ARENA) return 'other malloc arenas';
  return 'other anonymous';
}

export function anonymousByKind(mappings: readonly Mapping[]): Record<Kind, number> {
  const out: Record<Kind, number> = { 'main malloc arena': 0, 'other malloc arenas': 0, 'other anonymous': 0, 'file mappings': 0 };
  for (const mapping of mappings) out[kindOf(mapping)] += mapping.anonymousKiB;
  return out;
}

function report(dir: string): string {
  const files = readdirSync(dir)
    .filter((name) => /^smaps-\d+\.txt$/.test(name))
    .sort();
  const kinds: Kind[] = ['main malloc arena', 'other malloc arenas', 'other anonymous', 'file mappings'];
  const rows = files.map((name) => {
    const byKind = anonymousByKind(parseSmaps(readFileSync(path.join(dir, name), 'utf8')));
    const total = kinds.reduce((sum, kind) => sum + byKind[kind], 0);
    return [`minute ${Number(/\d+/.exec(name)?.[0])}`, ...kinds.map((kind) => (byKind[kind] / 1024).toFixed(1)), (total / 1024).toFixed(1)];
  });
  return table(['snapshot', ...kinds.map((kind) => `${kind} MiB`), 'anonymous MiB'], rows);
}

async function sample(pid: number, dir: string, everySeconds: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  for (;;) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    } catch {
      return; // the process is gone
    }
    const minute = Math.round((Date.now() - started) / 60_000);
    writeFileSync(path.join(dir, `smaps-${String(minute).padStart(3, '0')}.txt`), text);
    await new Promise((resolve) => setTimeout(resolve, everySeconds * 1000));
  }
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'report' && rest[0] !== undefined) {
    process.stdout.write(`${report(rest[0])}\n`);
  } else if (mode === 'sample' && rest[0] !== undefined && rest[1] !== undefined) {
    const every = rest.indexOf('--every');
    await sample(Number(rest[0]), rest[1], every === -1 ? 600 : Number(rest[every + 1]));
  } else {
    process.stderr.write('usage: npx tsx bench/smaps.ts sample <pid> <dir> [--every 600] | report <dir>\n');
    process.exitCode = 2;
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]))) void main();
