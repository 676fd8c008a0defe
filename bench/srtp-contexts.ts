/**
 * SRTP relay work per packet as the number of contexts grows: for N
 * streams, one packet per stream in turn is unprotected with the phone's
 * key then protected with voix's (what the relay does for each packet of an
 * SRTP-to-SRTP call), in a tight loop on one thread. With many streams
 * each packet touches another context, which is what a relay carrying N
 * calls does; bench/srtp.ts measures one context.
 *
 *   npx tsx bench/srtp-contexts.ts [--streams 1,10,100,700,1400]
 */
import { randomBytes } from 'node:crypto';
import { SrtpSession } from '../src/srtp/srtp-session.js';
import { machineLine } from './relay-machine.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const steps = (option('streams') ?? '1,10,100,700,1400').split(',').map(Number).filter((n) => n > 0);
const RTP_BYTES = 172;
const TAG_BYTES = 10;

function keying(): { suite: 'AES_CM_128_HMAC_SHA1_80'; key: Buffer; salt: Buffer } {
  return { suite: 'AES_CM_128_HMAC_SHA1_80', key: randomBytes(16), salt: randomBytes(14) };
}

/** µs per relayed packet over the second half of the packets (the first half warms the JIT and the keystream batches). */
function run(streams: number): number {
  const packetsPerStream = Math.max(400, Math.floor(400_000 / streams));
  const phones: SrtpSession[] = [];
  const inbound: SrtpSession[] = [];
  const outbound: SrtpSession[] = [];
  for (let i = 0; i < streams; i++) {
    const phoneKey = keying();
    phones.push(new SrtpSession(phoneKey));
    inbound.push(new SrtpSession(phoneKey));
    outbound.push(new SrtpSession(keying()));
  }
  // Every packet protected by its phone beforehand, so that only the relay's work is timed.
  const wire: Buffer[][] = phones.map((phone, i) => {
    const packets: Buffer[] = [];
    for (let s = 0; s < packetsPerStream; s++) {
      const packet = Buffer.alloc(RTP_BYTES + TAG_BYTES, 0x55);
      packet[0] = 0x80;
      packet[1] = 0;
      packet.writeUInt16BE(s & 0xffff, 2);
      packet.writeUInt32BE((s * 160) >>> 0, 4);
      packet.writeUInt32BE(i + 1, 8);
      phone.protectRtp(packet, RTP_BYTES);
      packets.push(packet);
    }
    return packets;
  });
  let started = process.hrtime.bigint();
  let relayed = 0;
  for (let s = 0; s < packetsPerStream; s++) {
    if (s === packetsPerStream / 2) {
      started = process.hrtime.bigint();
      relayed = 0;
    }
    for (let i = 0; i < streams; i++) {
      const packet = wire[i]?.[s];
      if (packet === undefined) continue;
      const clear = inbound[i]?.unprotectRtp(packet, packet.length) ?? -1;
      if (clear !== RTP_BYTES || (outbound[i]?.protectRtp(packet, clear) ?? -1) !== packet.length) throw new Error('SRTP failed');
      relayed++;
    }
  }
  return Number(process.hrtime.bigint() - started) / relayed / 1000;
}

console.log('command: npx tsx bench/srtp-contexts.ts' + (process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''));
console.log(`machine: ${machineLine()}`);
console.log('streams  µs per relayed packet (unprotect + protect)');
for (const streams of steps) console.log(`${String(streams).padEnd(7)}  ${run(streams).toFixed(2)}`);
