/**
 * STYLE.md rule 8 as a test: the per-packet path of a relay leg (receive,
 * check, count, forward, transform) allocates nothing. Relay legs forward
 * millions of packets in a plain Node process (relay-allocation-probe.ts)
 * with a clock that allocates nothing; 16 bytes per packet would be tens of
 * megabytes, i.e. many scavenges.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

interface ProbeResult {
  readonly packets: number;
  readonly plain: number;
  readonly growing: number;
  readonly srtp: number;
  readonly performanceNow: number;
  readonly dtmf: number;
  readonly srtpUnoptimized: number;
}

function probe(): Promise<ProbeResult> {
  const script = fileURLToPath(new URL('./relay-allocation-probe.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--allow-natives-syntax', '--import', import.meta.resolve('tsx'), script], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as ProbeResult);
    });
  });
}

describe('relay leg per-packet path', () => {
  it('allocates nothing per packet, plain RTP, through a transform that grows packets, through SRTP protect and with DTMF detection', async () => {
    const result = await probe();
    // A scavenge or two may come from whatever else the process does meanwhile; 16 bytes a packet make a dozen.
    expect(result.plain).toBeLessThanOrEqual(2);
    expect(result.growing).toBeLessThanOrEqual(2);
    // SRTP protect with the native crypto: no keystream batch Buffer either.
    expect(result.srtp).toBeLessThanOrEqual(2);
    expect(result.dtmf).toBeLessThanOrEqual(2);
    // The same with protectRtp left to the interpreter and baseline code, as V8 sometimes leaves it.
    expect(result.srtpUnoptimized).toBeLessThanOrEqual(2);
    // The probe can tell: performance.now() returns a fresh 16-byte heap number on Node 20.
    expect(result.performanceNow).toBeGreaterThan(3);
  }, 60_000);
});
