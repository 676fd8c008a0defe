/**
 * Which trunk, if any, an INVITE comes from: its source address and port
 * against each trunk's host and port (the host resolved when the
 * configuration is loaded or reloaded), or its source address alone
 * against the trunk's inbound_addresses (IPs or CIDR blocks, for providers
 * that call from a pool of servers). The port counts for the host because a
 * phone may well share the provider's address (a provider on the same
 * machine, or behind the same NAT) but not its SIP port. A provider does not answer challenges, so this address
 * check is its authentication; it is also why a trunk's caller only ever
 * reaches internal numbers (call-router.ts).
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { TrunkConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';

export type HostResolver = (host: string) => Promise<string[]>;

const systemResolver: HostResolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

interface TrunkAddresses {
  readonly trunk: TrunkConfig;
  /** inbound_addresses: any source port. */
  readonly list: BlockList;
  /** The host's addresses: from the trunk's port only. */
  readonly hostAddresses: ReadonlySet<string>;
}

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/** `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack socket) is 192.0.2.1. */
function unmapped(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export class TrunkIdentifier {
  private entries: TrunkAddresses[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly resolve: HostResolver = systemResolver,
  ) {}

  /** Builds the address lists of `trunks`; a host that does not resolve is logged and matched by its inbound_addresses only. */
  async update(trunks: readonly TrunkConfig[]): Promise<void> {
    const entries: TrunkAddresses[] = [];
    for (const trunk of trunks) {
      const list = new BlockList();
      for (const item of trunk.inboundAddresses) {
        const slash = item.indexOf('/');
        if (slash === -1) list.addAddress(item, family(item));
        else list.addSubnet(item.slice(0, slash), Number(item.slice(slash + 1)), family(item.slice(0, slash)));
      }
      const hostAddresses = new Set<string>();
      try {
        const addresses = isIP(trunk.host) !== 0 ? [trunk.host] : await this.resolve(trunk.host);
        for (const a of addresses) hostAddresses.add(unmapped(a));
      } catch (err) {
        this.logger.warn('trunk host does not resolve: its calls are recognised by inbound_addresses only', { trunk: trunk.name, host: trunk.host, error: err });
      }
      entries.push({ trunk, list, hostAddresses });
    }
    this.entries = entries;
  }

  identify(address: string, port: number): TrunkConfig | undefined {
    const a = unmapped(address);
    if (isIP(a) === 0) return undefined;
    return this.entries.find((e) => (e.hostAddresses.has(a) && port === e.trunk.port) || e.list.check(a, family(a)))?.trunk;
  }
}
