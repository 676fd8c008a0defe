/**
 * A file another process appends to (a service's log written through
 * systemd's StandardOutput=append:), read line by line as it grows: bounded
 * waits on its lines like ManagedProcess.waitForLine. The file is re-read
 * from the start when it shrinks (a rotation by copytruncate).
 */
import { open, stat } from 'node:fs/promises';
import { registerCleanup } from './cleanup.js';
import { EventLog } from './event-log.js';

const POLL_MS = 50;

export class FollowedFile {
  private readonly log = new EventLog<string>();
  private offset = 0;
  private partial = '';
  private timer: NodeJS.Timeout | null = null;
  private reading: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Starts following; stopped by the cleanup after the test. */
  start(): this {
    this.timer = setInterval(() => void (this.reading = this.reading.then(() => this.readMore())), POLL_MS);
    registerCleanup(`stop following ${this.path}`, () => this.stop());
    return this;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async readMore(): Promise<void> {
    const size = await stat(this.path).then((s) => s.size, () => 0);
    if (size < this.offset) {
      this.offset = 0;
      this.partial = '';
    }
    if (size === this.offset) return;
    const handle = await open(this.path, 'r');
    try {
      const buffer = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      this.offset += bytesRead;
      const parts = (this.partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) this.log.push(line);
    } finally {
      await handle.close();
    }
  }

  /** Every complete line read so far. */
  lines(): readonly string[] {
    return this.log.items();
  }

  /** Index of the next line to come (see waitForLine's since). */
  mark(): number {
    return this.log.mark();
  }

  /** The first line (from `since` on) for which predicate holds; rejects after timeoutMs with the lines seen. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs: number, options: { since?: number } = {}): Promise<string> {
    return this.log.waitFor(predicate, timeoutMs, {
      since: options.since,
      describe: (seen) => `${this.path}: no matching line within ${timeoutMs} ms. Last lines:\n${seen.slice(-50).join('\n')}`,
    });
  }
}

/** Follows `path` (which may not exist yet) from its start. */
export function followFile(path: string): FollowedFile {
  return new FollowedFile(path).start();
}
