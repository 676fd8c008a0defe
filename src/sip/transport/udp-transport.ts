/**
 * SIP over UDP (RFC 3261 §18): one socket that receives datagrams and sends
 * requests and responses from the listening port, so that NAT bindings the
 * phone opened towards voix are reused (RFC 3581).
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';

export interface UdpTransportOptions {
  readonly address: string;
  readonly port: number;
  readonly onDatagram: (data: Buffer, remoteAddress: string, remotePort: number) => void;
  readonly onError: (error: Error) => void;
}

/**
 * The UDP socket as the transport layer uses it: what a fake replaces to
 * drive the SIP stack without a network (bench/register-path.ts).
 */
export interface UdpEndpoint {
  listen(): Promise<{ address: string; port: number }>;
  readonly address: string;
  readonly port: number;
  send(data: Buffer, address: string, port: number, onError: (err: Error) => void): void;
  close(): Promise<void>;
}

export class UdpTransport implements UdpEndpoint {
  private readonly socket: dgram.Socket;
  private boundAddress = '';
  private boundPort = 0;

  constructor(private readonly options: UdpTransportOptions) {
    this.socket = dgram.createSocket({ type: isIPv6(options.address) ? 'udp6' : 'udp4', reuseAddr: false });
    this.socket.on('message', (data, rinfo) => options.onDatagram(data, rinfo.address, rinfo.port));
    this.socket.on('error', (err) => options.onError(err));
  }

  listen(): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.socket.once('error', onError);
      this.socket.bind(this.options.port, this.options.address, () => {
        this.socket.off('error', onError);
        const addr = this.socket.address();
        this.boundAddress = addr.address;
        this.boundPort = addr.port;
        // A burst of registrations must not be lost to a small default buffer.
        try {
          this.socket.setRecvBufferSize(4 * 1024 * 1024);
          this.socket.setSendBufferSize(4 * 1024 * 1024);
        } catch {
          // The kernel may cap the size; the default still works.
        }
        resolve({ address: this.boundAddress, port: this.boundPort });
      });
    });
  }

  get address(): string {
    return this.boundAddress;
  }

  get port(): number {
    return this.boundPort;
  }

  send(data: Buffer, address: string, port: number, onError: (err: Error) => void): void {
    this.socket.send(data, port, address, (err) => {
      if (err) onError(err);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
