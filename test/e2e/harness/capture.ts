/**
 * Packet captures of what really went over the wire: `dumpcap` (Wireshark's
 * capture engine, package tshark) writes a pcap while the test runs, and
 * `tshark -r` reads it back afterwards, as fields the test interprets
 * itself (RTP headers, G.711 payloads, TLS records).
 *
 * Capturing needs root (CI is root) or the wireshark group. On `lo` each
 * packet appears once. `startCapture` resolves once dumpcap reported the
 * output file, i.e. after the interface was opened with its filter.
 */
import { join } from 'node:path';
import { makeTempDir } from './cleanup.js';
import { runProcess, startProcess, type ManagedProcess } from './process.js';

export interface CaptureOptions {
  /** BPF capture filter (pcap-filter(7)), e.g. "udp portrange 30000-30039 or tcp port 5061". */
  readonly filter: string;
  /** Default "lo". */
  readonly interface?: string;
  /** Capture inside this network namespace (ip netns exec). */
  readonly netns?: string;
  readonly label?: string;
  /** Bound on dumpcap's start; default 10 000 ms. */
  readonly startTimeoutMs?: number;
}

export interface CapturedDatagram {
  /** Capture time, seconds since the epoch (kernel timestamp). */
  readonly time: number;
  readonly source: string;
  readonly sourcePort: number;
  readonly destination: string;
  readonly destinationPort: number;
  /** The UDP payload, or the TCP segment's payload (empty for a bare ACK). */
  readonly payload: Buffer;
}

function parseFieldLines(text: string): CapturedDatagram[] {
  const packets: CapturedDatagram[] = [];
  for (const line of text.split('\n')) {
    if (line.trim().length === 0) continue;
    const [time, source, sourcePort, destination, destinationPort, payload] = line.split('\t');
    if (time === undefined || source === undefined || sourcePort === undefined || destination === undefined || destinationPort === undefined) continue;
    packets.push({
      time: Number(time),
      source,
      sourcePort: Number(sourcePort),
      destination,
      destinationPort: Number(destinationPort),
      payload: Buffer.from((payload ?? '').replace(/:/g, ''), 'hex'),
    });
  }
  return packets;
}

export class PacketCapture {
  private stopped: Promise<void> | null = null;

  private constructor(
    readonly file: string,
    readonly process: ManagedProcess,
  ) {}

  static async start(options: CaptureOptions): Promise<PacketCapture> {
    const dir = await makeTempDir('capture');
    const file = join(dir, 'capture.pcap');
    const dumpcap = ['dumpcap', '-i', options.interface ?? 'lo', '-f', options.filter, '-w', file, '-P'];
    const [command, ...args] = options.netns === undefined ? dumpcap : ['ip', 'netns', 'exec', options.netns, ...dumpcap];
    const child = startProcess({ command: command ?? 'dumpcap', args, label: options.label ?? 'dumpcap', cleanupGraceMs: 2000 });
    await child.waitForLine((text) => text.startsWith('File: '), options.startTimeoutMs ?? 10_000);
    return new PacketCapture(file, child);
  }

  /** Stops dumpcap (SIGTERM: it flushes and closes the file). Safe to call twice. */
  stop(): Promise<void> {
    this.stopped ??= this.process.stop({ graceMs: 3000 }).then(() => undefined);
    return this.stopped;
  }

  /** Runs `tshark -r <file> ...args` (after stop()) and returns its standard output. */
  async tshark(args: readonly string[], timeoutMs = 30_000): Promise<string> {
    await this.stop();
    const result = await runProcess('tshark', ['-n', '-r', this.file, ...args], { timeoutMs, label: 'tshark -r' });
    if (result.code !== 0) throw new Error(`tshark ${args.join(' ')} failed (${String(result.code)}):\n${result.stderr}`);
    return result.stdout;
  }

  /** Every captured UDP datagram (IPv4), in capture order, matching the optional display filter. */
  async udp(displayFilter?: string): Promise<CapturedDatagram[]> {
    const filter = displayFilter === undefined ? 'udp && ip' : `udp && ip && (${displayFilter})`;
    // Decoded as plain UDP (-d … never applied, and RTP/SIP heuristics off) so udp.payload is the whole payload.
    const text = await this.tshark([
      '--disable-heuristic', 'rtp_udp', '--disable-heuristic', 'rtcp_udp', '--disable-heuristic', 'sip_udp',
      '-Y', filter, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f',
      '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'udp.payload',
    ]);
    return parseFieldLines(text);
  }

  /** Every captured TCP segment (IPv4) matching the optional display filter, payload included. */
  async tcp(displayFilter?: string): Promise<CapturedDatagram[]> {
    const filter = displayFilter === undefined ? 'tcp && ip' : `tcp && ip && (${displayFilter})`;
    const text = await this.tshark([
      '-Y', filter, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f',
      '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport', '-e', 'tcp.payload',
    ]);
    return parseFieldLines(text);
  }

  /** How many frames tshark's dissectors match with a display filter, e.g. count('sip', ['-d', 'tcp.port==5061,sip']). */
  async count(displayFilter: string, extraArgs: readonly string[] = []): Promise<number> {
    const text = await this.tshark([...extraArgs, '-Y', displayFilter, '-T', 'fields', '-e', 'frame.number']);
    return text.split('\n').filter((line) => line.trim().length > 0).length;
  }
}

export function startCapture(options: CaptureOptions): Promise<PacketCapture> {
  return PacketCapture.start(options);
}
