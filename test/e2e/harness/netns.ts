/**
 * Separate hosts on one machine: Linux network namespaces (`ip netns`,
 * package iproute2) joined by veth pairs, and nftables rules (`nft`, package
 * nftables) inside them. Needs root (CI is root).
 *
 * Everything created here is registered with the harness cleanup and
 * removed after the test, passed or failed: namespaces (which takes their
 * interfaces, routes and nft tables with them) and the root-namespace ends
 * of veth pairs. Names carry a random id so that two runs on one machine do
 * not collide; interface names stay within Linux's 15 characters.
 *
 * `createNatLab()` builds the classic home setup used by the NAT cases:
 *
 *     root namespace ("the Internet": voix, other phones)
 *       publicAddress ──veth── routerPublicAddress   router namespace
 *                                  (nft: masquerade, ports remapped,
 *                                   inbound only for established flows)
 *                              routerLanAddress ──veth── phoneAddress   phone namespace
 *       managementAddress ──────────veth───────────── phoneManagementAddress
 *
 * The phone namespace's default route goes through the router, so what the
 * phone sends to publicAddress leaves the router from routerPublicAddress
 * with a source port in natPorts (never the port the phone bound): a server
 * that answers to the addresses written in SIP/SDP instead of where packets
 * come from reaches nobody. The root namespace routes the private subnet to
 * the router, whose forward chain drops unsolicited inbound traffic, so
 * nothing leaves the machine. The management link carries only the test's
 * control of the phone (baresip's ctrl_tcp), never SIP or RTP.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, registerCleanup } from './cleanup.js';
import { runProcess, type RunResult } from './process.js';

async function run(command: string, args: readonly string[], label?: string): Promise<RunResult> {
  const result = await runProcess(command, args, { timeoutMs: 15_000, label: label ?? `${command} ${args.join(' ')}` });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${String(result.code)}): ${result.stderr.trim() || result.stdout.trim()}`);
  return result;
}

/** Runs `ip …args`, in a namespace when given (`ip -n <ns> …`); throws with ip's message on failure. */
export function runIp(args: readonly string[], netns?: string): Promise<RunResult> {
  return run('ip', netns === undefined ? args : ['-n', netns, ...args]);
}

/** Runs a command inside a namespace (`ip netns exec <ns> command …args`), bounded; throws on a non-zero exit. */
export function netnsExec(netns: string, command: string, args: readonly string[]): Promise<RunResult> {
  return run('ip', ['netns', 'exec', netns, command, ...args], `[${netns}] ${command} ${args.join(' ')}`);
}

/** A new network namespace with its loopback up; deleted by the cleanup. */
export async function createNetns(name: string): Promise<string> {
  await runIp(['netns', 'add', name]);
  registerCleanup(`ip netns del ${name}`, async () => {
    await runProcess('ip', ['netns', 'del', name], { timeoutMs: 15_000, label: `ip netns del ${name}` });
  });
  await runIp(['link', 'set', 'lo', 'up'], name);
  return name;
}

export interface VethEnd {
  /** Interface name, at most 15 characters. */
  readonly name: string;
  /** Namespace to put it in; undefined: the root namespace. */
  readonly netns?: string;
  /** Address with prefix length, e.g. 10.77.0.1/24. */
  readonly address: string;
}

/** A veth pair, each end in its namespace with its address, both up. The root-namespace end is deleted by the cleanup. */
export async function createVeth(a: VethEnd, b: VethEnd): Promise<void> {
  for (const end of [a, b]) if (end.name.length > 15) throw new Error(`interface name ${end.name} is longer than 15 characters`);
  await runIp(['link', 'add', a.name, 'type', 'veth', 'peer', 'name', b.name]);
  // Deleting one end deletes the pair; once a namespace took its end away, this finds nothing (ignored).
  registerCleanup(`ip link del ${a.name}`, async () => {
    await runProcess('ip', a.netns === undefined ? ['link', 'del', a.name] : ['-n', a.netns, 'link', 'del', a.name], { timeoutMs: 15_000, label: `ip link del ${a.name}` });
  });
  for (const end of [a, b]) {
    if (end.netns !== undefined) await runIp(['link', 'set', end.name, 'netns', end.netns]);
    await runIp(['address', 'add', end.address, 'dev', end.name], end.netns);
    await runIp(['link', 'set', end.name, 'up'], end.netns);
  }
}

/** Loads an nftables ruleset (nft -f syntax) into a namespace; it goes away with the namespace. */
export async function applyNftables(netns: string, ruleset: string): Promise<void> {
  const dir = await makeTempDir('nft');
  const file = join(dir, 'ruleset.nft');
  await writeFile(file, ruleset);
  await netnsExec(netns, 'nft', ['-f', file]);
}

/** IPv4 addresses configured anywhere in the root namespace. */
async function rootAddresses(): Promise<string> {
  return (await runIp(['-4', '-o', 'address', 'show'])).stdout + (await runIp(['-4', 'route', 'show'])).stdout;
}

export interface NatLab {
  readonly routerNetns: string;
  readonly phoneNetns: string;
  /** Root-namespace address on the "Internet" link: bind the server here. */
  readonly publicAddress: string;
  /** The router's public address: what the server sees as the phone's source address. */
  readonly routerPublicAddress: string;
  readonly routerLanAddress: string;
  /** The phone's private address (what it writes in SIP and SDP). */
  readonly phoneAddress: string;
  /** Phone-namespace address on the management link, reachable from the root namespace (for ctrl_tcp). */
  readonly phoneManagementAddress: string;
  /** Source ports the router gives to the phone's flows. */
  readonly natPorts: { readonly min: number; readonly max: number };
  /** Connection-tracking entries of the router (`conntrack`-like lines from /proc), for diagnostics. */
  conntrack(): Promise<string>;
}

export interface NatLabOptions {
  /** Source ports the router maps the phone's flows to; default 40000-40999. */
  readonly natPorts?: { readonly min: number; readonly max: number };
}

/** Builds the NAT topology described at the top of this file; everything is removed by the cleanup. */
export async function createNatLab(options: NatLabOptions = {}): Promise<NatLab> {
  const natPorts = options.natPorts ?? { min: 40_000, max: 40_999 };
  const id = randomBytes(3).toString('hex');
  const taken = await rootAddresses();
  // 64 /30 blocks of TEST-NET-2 (RFC 5737) for the public link; a private /24 and /30 per lab.
  let block = randomInt(0, 64);
  for (let attempt = 0; attempt < 64 && taken.includes(`198.51.100.${block * 4 + 1}`); attempt += 1) block = (block + 1) % 64;
  const publicAddress = `198.51.100.${block * 4 + 1}`;
  const routerPublicAddress = `198.51.100.${block * 4 + 2}`;
  const lan = `10.77.${block}`;
  const management = `10.78.${block}`;
  if (taken.includes(publicAddress) || taken.includes(`${lan}.`) || taken.includes(`${management}.`)) {
    throw new Error(`no free address block for a NAT lab (tried 198.51.100.${block * 4}/30, ${lan}.0/24, ${management}.0/30)`);
  }

  const routerNetns = await createNetns(`voix-e2e-${id}-router`);
  const phoneNetns = await createNetns(`voix-e2e-${id}-phone`);
  const names = { pub: `vx${id}p0`, pubPeer: `vx${id}p1`, lan: `vx${id}l0`, lanPeer: `vx${id}l1`, mgmt: `vx${id}m0`, mgmtPeer: `vx${id}m1` };

  await createVeth({ name: names.pub, address: `${publicAddress}/30` }, { name: names.pubPeer, netns: routerNetns, address: `${routerPublicAddress}/30` });
  await createVeth({ name: names.lan, netns: routerNetns, address: `${lan}.1/24` }, { name: names.lanPeer, netns: phoneNetns, address: `${lan}.2/24` });
  await createVeth({ name: names.mgmt, address: `${management}.1/30` }, { name: names.mgmtPeer, netns: phoneNetns, address: `${management}.2/30` });

  await runIp(['route', 'add', 'default', 'via', `${lan}.1`], phoneNetns);
  // The private subnet is routed to the router (which drops what nobody asked for) rather than out of the machine.
  await runIp(['route', 'add', `${lan}.0/24`, 'via', routerPublicAddress, 'dev', names.pub]);
  await netnsExec(routerNetns, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  await applyNftables(
    routerNetns,
    `table ip voix_e2e_nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${names.pubPeer}" meta l4proto { tcp, udp } masquerade to :${natPorts.min}-${natPorts.max}
    oifname "${names.pubPeer}" masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    iifname "${names.lan}" oifname "${names.pubPeer}" accept
    iifname "${names.pubPeer}" oifname "${names.lan}" ct state established,related accept
  }
}
`,
  );
  return {
    routerNetns,
    phoneNetns,
    publicAddress,
    routerPublicAddress,
    routerLanAddress: `${lan}.1`,
    phoneAddress: `${lan}.2`,
    phoneManagementAddress: `${management}.2`,
    natPorts,
    conntrack: async () => (await netnsExec(routerNetns, 'cat', ['/proc/net/nf_conntrack']).catch(() => ({ stdout: '(no /proc/net/nf_conntrack)' }))).stdout,
  };
}
