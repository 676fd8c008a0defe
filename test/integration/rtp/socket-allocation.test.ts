/**
 * STYLE.md rule 8 down to the sockets (docs/adr/0006): with the native UDP
 * addon, a packet relayed through real loopback sockets allocates nothing
 * in the relay's thread; through dgram, Node allocates a Buffer and an
 * rinfo object per datagram, which the probe must see (so it can tell).
 * The probe runs in a plain Node process with a 1 MB young generation
 * (--max-semi-space-size=1), 400 000 packets at 100 000 a second: 32 bytes
 * a packet would be a dozen scavenges. Node itself allocates a little per
 * event-loop wake-up (a few scavenges, whatever the socket does).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

interface Run {
  readonly scavenges: number;
  readonly delivered: number;
}

function probe(): Promise<{ packets: number; native: Run; dgram: Run }> {
  const script = fileURLToPath(new URL('./socket-allocation-probe.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--max-semi-space-size=1', '--import', import.meta.resolve('tsx'), script], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { packets: number; native: Run; dgram: Run });
    });
  });
}

describe('relay sockets, per packet', () => {
  it('allocate nothing in the relay thread on the native addon, where dgram allocates for every datagram', async () => {
    const result = await probe();
    // Most packets went through (loopback may drop a few under a burst).
    expect(result.native.delivered).toBeGreaterThan(result.packets * 0.9);
    expect(result.dgram.delivered).toBeGreaterThan(result.packets * 0.9);
    expect(result.native.scavenges).toBeLessThanOrEqual(10);
    // The probe can tell: dgram's Buffer, rinfo and send request per datagram.
    expect(result.dgram.scavenges).toBeGreaterThan(10 * Math.max(1, result.native.scavenges));
  }, 120_000);
});
