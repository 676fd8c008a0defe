/**
 * Builds bench/srtp/libsrtp-peer.c against Debian's libsrtp2-dev with gcc
 * and runs it. The benchmark (bench/srtp.ts) and the cross-check with an
 * independent implementation (test/integration/srtp) both use it. The
 * binary is cached in the temporary directory under a name made from the
 * hash of the source and of libsrtp2's header, so runs share it and a
 * changed source is rebuilt; no binary is ever committed.
 *
 * Needs: apt-get install gcc libsrtp2-dev
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('./libsrtp-peer.c', import.meta.url));
const HEADER = '/usr/include/srtp2/srtp.h';

/** Why libsrtp2 cannot be used here, or null when it can. */
export function libsrtpUnavailableReason(): string | null {
  if (!existsSync(HEADER)) return `${HEADER} is missing: apt-get install libsrtp2-dev`;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc is missing: apt-get install gcc';
  }
  return null;
}

const built = new Map<string, string>();

/** Path of the compiled helper; compiles when no cached build matches. Throws with gcc's message when it cannot. */
export function libsrtpPeerBinary(): string {
  return libsrtpToolBinary(SOURCE);
}

/**
 * A C program of bench/ linked with libsrtp2 (libsrtp-peer.c, relay-blaster.c),
 * compiled once per source and header version into the temporary directory.
 */
export function libsrtpToolBinary(source: string): string {
  const cached = built.get(source);
  if (cached !== undefined) return cached;
  const name = path.basename(source, '.c');
  const digest = createHash('sha256').update(readFileSync(source)).update(readFileSync(HEADER)).digest('hex').slice(0, 16);
  const directory = path.join(tmpdir(), `voix-${name}-${digest}`);
  const binary = path.join(directory, name);
  if (!existsSync(binary)) {
    mkdirSync(directory, { recursive: true });
    // Built under a private name then renamed, so two runs at once never see half a binary.
    const partial = `${binary}.${process.pid}`;
    try {
      execFileSync('gcc', ['-O2', '-o', partial, source, '-lsrtp2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      rmSync(partial, { force: true });
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`cannot compile ${source} against libsrtp2 (apt-get install gcc libsrtp2-dev): ${stderr}`);
    }
    renameSync(partial, binary);
  }
  built.set(source, binary);
  return binary;
}

export function libsrtpVersion(): string {
  return execFileSync(libsrtpPeerBinary(), ['version'], { encoding: 'utf8' }).trim();
}

/** One scripted exchange with libsrtp2: one command per line in, one answer per line out (see libsrtp-peer.c). */
export function runLibsrtpScript(commands: readonly string[]): string[] {
  const output = execFileSync(libsrtpPeerBinary(), ['script'], {
    input: commands.join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = output.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length !== commands.length) {
    throw new Error(`libsrtp-peer answered ${lines.length} lines to ${commands.length} commands`);
  }
  return lines;
}

export interface LibsrtpRound {
  readonly protect: number;
  readonly unprotect: number;
}

/** How the benchmark numbers its packets: see sequenceNumberAt in bench/srtp.ts. */
export type PacketOrder = 'in-order' | 'reversed-8' | 'jump-40';

export function runLibsrtpBench(suite: 80 | 32, seconds: number, rounds: number, payloadBytes: number, order: PacketOrder = 'in-order'): LibsrtpRound[] {
  const output = execFileSync(libsrtpPeerBinary(), ['bench', String(suite), String(seconds), String(rounds), String(payloadBytes), order], {
    encoding: 'utf8',
  });
  const result: LibsrtpRound[] = [];
  for (const line of output.split('\n')) {
    const match = /^protect (\d+) unprotect (\d+)$/.exec(line);
    if (match !== null) result.push({ protect: Number(match[1]), unprotect: Number(match[2]) });
  }
  return result;
}
