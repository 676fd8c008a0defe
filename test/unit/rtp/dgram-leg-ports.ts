/**
 * The ports of a RelayLeg on unbound dgram sockets, for tests and benches
 * that drive the leg's receive methods themselves: sends go to the phone's
 * real address, nothing arrives through them. `sockets` collects what to
 * close afterwards.
 */
import dgram from 'node:dgram';
import { DgramRelayPort } from '../../../src/rtp/dgram-relay-port.js';
import type { LegPorts } from '../../../src/rtp/relay-port.js';

export function dgramLegPorts(sockets: dgram.Socket[], port = 40000): LegPorts {
  const make = (): dgram.Socket => {
    const s = dgram.createSocket('udp4');
    sockets.push(s);
    return s;
  };
  return {
    rtp: new DgramRelayPort(port, { listener: make(), sender: make() }),
    rtcp: new DgramRelayPort(port + 1, { listener: make(), sender: make() }),
  };
}
