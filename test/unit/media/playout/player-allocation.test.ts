/**
 * STYLE.md rule 8 as a test: the per-packet path of the player (scheduler,
 * RtpPlayer, the relay leg's send path up to the socket) allocates nothing
 * per packet. The probe runs with a 1 MB young generation
 * (--max-semi-space-size=1): 16 bytes a packet over its 3 million packets
 * would be 48 MB, i.e. dozens of scavenges, while the process's own noise
 * (JIT, timers) stays at one or two even on a busy machine. Found that way: a
 * double stored in an object field or passed to a call (timestamps above
 * 2^31, deadlines in µs).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

function probe(): Promise<{ packets: number; scavenges: number }> {
  const script = fileURLToPath(new URL('./player-allocation-probe.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--max-semi-space-size=1', '--import', import.meta.resolve('tsx'), script], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { packets: number; scavenges: number });
    });
  });
}

describe('player per-packet path', () => {
  it('allocates nothing per packet: 200 streams, 3 million packets, items changing inside packets, plain and growing (SRTP) legs', async () => {
    const result = await probe();
    expect(result.packets).toBe(3_000_000);
    // A few scavenges may come from whatever else the process does meanwhile; an allocation per packet makes dozens.
    expect(result.scavenges).toBeLessThanOrEqual(4);
  }, 60_000);
});
