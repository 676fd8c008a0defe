/**
 * Top functions of a V8 CPU profile (a .cpuprofile from `node --cpu-prof`
 * or the inspector), by self time and by inclusive time, each function
 * counted once per sample even when it recurses.
 *
 *   npx tsx bench/cpu-profile-top.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function frameName(node: CpuProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName === '' ? '(anonymous)' : functionName;
  if (url === '') return name;
  let file = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (file.startsWith(ROOT + path.sep)) file = path.relative(ROOT, file);
  else if (file.includes('/node_modules/')) file = file.slice(file.lastIndexOf('/node_modules/') + 1);
  return `${name} ${file}:${lineNumber + 1}`;
}

export interface ProfileRow {
  readonly name: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

/** Time per function, in ms, self and inclusive. */
export function profileRows(profile: CpuProfile): ProfileRow[] {
  const byId = new Map<number, CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const stackNames = new Map<number, string[]>();
  const namesOf = (id: number): string[] => {
    const cached = stackNames.get(id);
    if (cached !== undefined) return cached;
    const names = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node !== undefined) names.add(frameName(node));
    }
    const list = [...names];
    stackNames.set(id, list);
    return list;
  };
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time before sample i; the next delta is how long this sample lasted.
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (node === undefined) return;
    const own = frameName(node);
    self.set(own, (self.get(own) ?? 0) + ms);
    for (const name of namesOf(id)) total.set(name, (total.get(name) ?? 0) + ms);
  });
  return [...total.keys()].map((name) => ({ name, selfMs: self.get(name) ?? 0, totalMs: total.get(name) ?? 0 }));
}

export function profileSummary(profile: CpuProfile, top: number): string {
  const rows = profileRows(profile);
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const pct = (ms: number) => ((100 * ms) / totalMs).toFixed(1).padStart(5) + ' %';
  const lines = [`profile: ${totalMs.toFixed(0)} ms, ${profile.samples.length} samples`, '', `top ${top} by self time:`];
  for (const r of [...rows].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) lines.push(`  ${pct(r.selfMs)}  ${r.selfMs.toFixed(1).padStart(8)} ms  ${r.name}`);
  lines.push('', `top ${top} by inclusive time:`);
  for (const r of [...rows].sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) lines.push(`  ${pct(r.totalMs)}  ${r.totalMs.toFixed(1).padStart(8)} ms  ${r.name}`);
  return lines.join('\n');
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: npx tsx bench/cpu-profile-top.ts FILE.cpuprofile [--top 25]');
    process.exit(2);
  }
  const i = process.argv.indexOf('--top');
  const top = i === -1 ? 25 : Number(process.argv[i + 1]);
  console.log(profileSummary(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top));
}
