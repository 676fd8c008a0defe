/**
 * The UDP sockets a process holds, seen from outside as an operator would
 * (the kernel's tables, never the process's own account): its file
 * descriptors in /proc/<pid>/fd (`socket:[inode]`, threads included since
 * they share the table) matched with /proc/<pid>/net/udp and udp6 (the
 * process's own network namespace). Used to prove that a call leaves no RTP
 * relay socket behind.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';

export interface UdpSocketInfo {
  readonly inode: number;
  readonly localAddress: string;
  readonly localPort: number;
}

export interface PortRange {
  readonly portMin: number;
  readonly portMax: number;
}

function ipv4FromHex(hex: string): string {
  // /proc/net/udp writes the address as a 32-bit number in host (little-endian) order.
  const bytes = [6, 4, 2, 0].map((at) => Number.parseInt(hex.slice(at, at + 2), 16));
  return bytes.join('.');
}

function ipv6FromHex(hex: string): string {
  const groups: string[] = [];
  for (let word = 0; word < 4; word += 1) {
    const chunk = hex.slice(word * 8, word * 8 + 8);
    const bytes = [6, 4, 2, 0].map((at) => chunk.slice(at, at + 2)).join('');
    groups.push(bytes.slice(0, 4), bytes.slice(4, 8));
  }
  return groups.map((group) => group.replace(/^0+(?=.)/, '')).join(':').toLowerCase();
}

async function socketTable(pid: number, file: 'udp' | 'udp6'): Promise<Map<number, { address: string; port: number }>> {
  const table = new Map<number, { address: string; port: number }>();
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/net/${file}`, 'utf8');
  } catch {
    return table;
  }
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const inode = fields[9];
    if (local === undefined || inode === undefined) continue;
    const [addressHex, portHex] = local.split(':');
    if (addressHex === undefined || portHex === undefined) continue;
    const address = file === 'udp' ? ipv4FromHex(addressHex) : ipv6FromHex(addressHex);
    table.set(Number(inode), { address, port: Number.parseInt(portHex, 16) });
  }
  return table;
}

/** Every UDP socket the process `pid` has open (IPv4 and IPv6); empty when the process is gone. */
export async function udpSocketsOf(pid: number): Promise<UdpSocketInfo[]> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const inodes = new Set<number>();
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] !== undefined) inodes.add(Number(match[1]));
    } catch {
      // Closed between readdir and readlink.
    }
  }
  const sockets: UdpSocketInfo[] = [];
  for (const file of ['udp', 'udp6'] as const) {
    for (const [inode, local] of await socketTable(pid, file)) {
      if (inodes.has(inode)) sockets.push({ inode, localAddress: local.address, localPort: local.port });
    }
  }
  return sockets;
}

/** The process's UDP sockets bound to a port of the range (bounds included). */
export async function udpSocketsInRange(pid: number, range: PortRange): Promise<UdpSocketInfo[]> {
  return (await udpSocketsOf(pid)).filter((socket) => socket.localPort >= range.portMin && socket.localPort <= range.portMax);
}

/**
 * Waits until the process holds no UDP socket in the range (polling the
 * kernel's tables every 50 ms); rejects after timeoutMs with the sockets
 * still open.
 */
export async function waitForNoUdpSocketsInRange(pid: number, range: PortRange, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await udpSocketsInRange(pid, range);
    if (open.length === 0) return;
    if (Date.now() >= deadline) {
      const list = open.map((socket) => `${socket.localAddress}:${socket.localPort}`).join(', ');
      throw new Error(`process ${pid} still holds ${open.length} UDP socket(s) in ${range.portMin}-${range.portMax} after ${timeoutMs} ms: ${list}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
