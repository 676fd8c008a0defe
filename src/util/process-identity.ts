/**
 * Tells a process apart from a later one that got the same pid: the kernel's
 * start time of the process (/proc/<pid>/stat, field 22, in clock ticks since
 * boot, proc(5)). Stored by the server at start, compared by the CLI before
 * it signals that pid, so a stale pid left by a crash never gets a SIGHUP
 * (which would end an unrelated process).
 */
import { readFileSync } from 'node:fs';

/** The start time of `pid`, or null when there is no such process or no /proc (not Linux). */
export function processStartTime(pid: number | 'self'): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')': the fields after the last ')' start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[22 - 3] ?? null;
}

/** Whether a process with this pid exists (possibly someone else's: EPERM still means it exists). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
