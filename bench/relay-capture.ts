/**
 * Kernel timestamps for bench/relay.ts (TESTING.md: measure media timing
 * from captures on the receiving side, never from a sender's own clock):
 * dumpcap on the loopback interface, then each RTP packet that left the
 * relay is matched with the one that entered it by SSRC and sequence
 * number; the difference is the relay's added delay.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function captureAvailable(): boolean {
  return spawnSync('dumpcap', ['--version']).status === 0 && process.getuid?.() === 0;
}

export interface Capture {
  /** Stops dumpcap; resolves with the packets it says the kernel dropped before it could read them. */
  stop(): Promise<number>;
}

/** Starts dumpcap on `lo` for UDP in [portMin, portMax]; resolves once it captures. */
export function startCapture(file: string, portMin: number, portMax: number, pinned: (args: string[]) => [string, string[]]): Promise<Capture> {
  const [command, args] = pinned(['dumpcap', '-i', 'lo', '-f', `udp portrange ${portMin}-${portMax}`, '-s', '64', '-B', '128', '-P', '-w', file]);
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Capturing on')) {
        resolve({
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => {
                // "Packets received/dropped on interface 'lo': 812345/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0)"
                const match = /received\/dropped on interface '[^']*': (\d+)\/(\d+)/.exec(stderr);
                done(match ? Number(match[2]) : Number.NaN);
              });
              child.kill('SIGINT');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`dumpcap exited (${code}): ${stderr.trim()}`)));
  });
}

export interface RelayTiming {
  readonly ingress: number;
  readonly egress: number;
  /** Ingress packets never seen leaving. */
  readonly unmatched: number;
  /** egress − ingress per matched packet, µs, sorted. */
  readonly delaysUs: Float64Array;
  readonly firstUs: number;
  readonly lastUs: number;
}

/**
 * Reads a classic pcap of `lo` (Ethernet framing, IPv4, UDP) and matches
 * RTP packets: towards a relay port is ingress, from a relay port egress.
 */
export function matchRelayPackets(file: string, isRelayPort: (port: number) => boolean): RelayTiming {
  const data = readFileSync(file);
  const magic = data.readUInt32LE(0);
  const nano = magic === 0xa1b23c4d;
  if (magic !== 0xa1b2c3d4 && !nano) throw new Error(`${file}: not a little-endian pcap file`);
  const linkType = data.readUInt32LE(20);
  if (linkType !== 1) throw new Error(`${file}: link type ${linkType}, expected Ethernet (1)`);
  const ingressAt = new Map<number, number>();
  const delays: number[] = [];
  let ingress = 0;
  let egress = 0;
  let firstUs = Number.POSITIVE_INFINITY;
  let lastUs = 0;
  for (let offset = 24; offset + 16 <= data.length; ) {
    const seconds = data.readUInt32LE(offset);
    const fraction = data.readUInt32LE(offset + 4);
    const captured = data.readUInt32LE(offset + 8);
    const frame = offset + 16;
    offset = frame + captured;
    const timeUs = seconds * 1e6 + (nano ? fraction / 1000 : fraction);
    if (captured < 14 + 20 + 8 + 12 || data.readUInt16BE(frame + 12) !== 0x0800) continue;
    const ip = frame + 14;
    const udp = ip + (data.readUInt8(ip) & 0x0f) * 4;
    if (data.readUInt8(ip + 9) !== 17) continue;
    const sourcePort = data.readUInt16BE(udp);
    const destinationPort = data.readUInt16BE(udp + 2);
    const rtp = udp + 8;
    if (rtp + 12 > frame + captured || data.readUInt8(rtp) >>> 6 !== 2) continue;
    const key = data.readUInt32BE(rtp + 8) * 65536 + data.readUInt16BE(rtp + 2);
    if (isRelayPort(destinationPort) && !isRelayPort(sourcePort)) {
      ingress++;
      ingressAt.set(key, timeUs);
      firstUs = Math.min(firstUs, timeUs);
      lastUs = Math.max(lastUs, timeUs);
    } else if (isRelayPort(sourcePort)) {
      egress++;
      const at = ingressAt.get(key);
      if (at !== undefined) {
        delays.push(timeUs - at);
        ingressAt.delete(key);
      }
    }
  }
  return { ingress, egress, unmatched: ingressAt.size, delaysUs: Float64Array.from(delays).sort(), firstUs, lastUs };
}
