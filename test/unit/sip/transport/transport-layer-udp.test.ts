/**
 * SipTransportLayer over a fake UDP socket (createUdp): datagrams in,
 * requests up with their flow and stamped Via, responses out as bytes.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../../../src/log/logger.js';
import { createResponse } from '../../../../src/sip/builders.js';
import type { SipRequest } from '../../../../src/sip/message.js';
import { SipTransportLayer } from '../../../../src/sip/transport/transport-layer.js';
import type { Flow } from '../../../../src/sip/transport/types.js';
import type { UdpEndpoint, UdpTransportOptions } from '../../../../src/sip/transport/udp-transport.js';
import { sipBytes } from '../../../support/messages.js';

class FakeUdp implements UdpEndpoint {
  readonly sent: Array<{ data: string; address: string; port: number }> = [];
  constructor(readonly options: UdpTransportOptions) {}
  listen(): Promise<{ address: string; port: number }> {
    return Promise.resolve({ address: this.options.address, port: 5060 });
  }
  get address(): string {
    return this.options.address;
  }
  get port(): number {
    return 5060;
  }
  send(data: Buffer, address: string, port: number): void {
    this.sent.push({ data: data.toString('utf8'), address, port });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function startLayer(): Promise<{ layer: SipTransportLayer; udp: FakeUdp; requests: Array<{ request: SipRequest; flow: Flow }> }> {
  let udp: FakeUdp | null = null;
  const layer = new SipTransportLayer({
    udp: { address: '192.0.2.1', port: 0 },
    tcp: null,
    tls: null,
    logger: createMemoryLogger().logger,
    createUdp: (options) => (udp = new FakeUdp(options)),
  });
  const requests: Array<{ request: SipRequest; flow: Flow }> = [];
  layer.setHandler({ onRequest: (request, flow) => requests.push({ request, flow }), onResponse: () => undefined });
  const bound = await layer.start();
  expect(bound).toEqual([{ transport: 'udp', address: '192.0.2.1', port: 5060 }]);
  if (udp === null) throw new Error('no UDP endpoint made');
  return { layer, udp, requests };
}

const OPTIONS = `OPTIONS sip:voix.example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKfake1;rport
From: <sip:1001@voix.example.com>;tag=a1
To: <sip:voix.example.com>
Call-ID: fake-udp-1
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

`;

describe('SipTransportLayer with a UDP endpoint from createUdp', () => {
  it('hands a received request up with its flow and answers through the same endpoint', async () => {
    const { layer, udp, requests } = await startLayer();

    udp.options.onDatagram(sipBytes(OPTIONS), '203.0.113.9', 40000);
    const [received] = requests;
    if (received === undefined) throw new Error('no request handed up');
    layer.send(createResponse(received.request, 200), { transport: 'udp', address: '203.0.113.9', port: 40000 });

    expect(received.flow).toMatchObject({ transport: 'udp', remoteAddress: '203.0.113.9', remotePort: 40000, localAddress: '192.0.2.1', localPort: 5060 });
    expect(received.request.topVia.params).toContainEqual({ name: 'received', value: '203.0.113.9' });
    expect(received.request.topVia.params).toContainEqual({ name: 'rport', value: '40000' });
    expect(udp.sent).toHaveLength(1);
    expect(udp.sent[0]).toMatchObject({ address: '203.0.113.9', port: 40000 });
    expect(udp.sent[0]?.data).toMatch(/^SIP\/2\.0 200 OK\r\n/);
  });

  it('sends bytes given to sendSerialized as they are, and reports a transport it does not have', async () => {
    const { layer, udp } = await startLayer();
    const bytes = sipBytes('SIP/2.0 200 OK\nVia: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKfake1;rport=40000;received=203.0.113.9\nContent-Length: 0\n\n');
    const errors: string[] = [];

    layer.sendSerialized(bytes, { transport: 'udp', address: '203.0.113.9', port: 40000 }, (error) => errors.push(error.message));
    layer.sendSerialized(bytes, { transport: 'tcp', address: '203.0.113.9', port: 5060 }, (error) => errors.push(error.message));

    expect(udp.sent).toEqual([{ data: bytes.toString('utf8'), address: '203.0.113.9', port: 40000 }]);
    expect(errors).toEqual(['TCP is not enabled']);
  });

  it('answers an unparsable request with a stateless 400 through the endpoint', async () => {
    const { udp, requests } = await startLayer();

    udp.options.onDatagram(sipBytes(OPTIONS.replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS')), '203.0.113.9', 40000);

    expect(requests).toHaveLength(0);
    expect(udp.sent).toHaveLength(1);
    expect(udp.sent[0]?.data).toMatch(/^SIP\/2\.0 400 Malformed CSeq header\r\n/);
    expect(udp.sent[0]?.data).toContain('Call-ID: fake-udp-1\r\n');
  });
});
