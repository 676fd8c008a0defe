/**
 * The workloads of `npm run bench` (bench/all.ts): which script, with which
 * options, against which peers. The options keep the whole run under 30
 * minutes on a 2-core machine while every figure stays a rate held in 3 of
 * 3 runs or a median of 3.
 */
export type Peer = 'asterisk' | 'kamailio' | 'rtpengine' | 'libsrtp2';

export interface Workload {
  readonly script: string;
  readonly args: readonly string[];
  readonly peers: readonly Peer[];
  /** `npm run bench -- --quick`: a few seconds each, to check the harness end to end; figures not worth reporting. */
  readonly quickArgs: readonly string[];
}

export const WORKLOADS = {
  register: {
    script: 'bench/register.ts',
    args: ['--seconds', '4', '--repeat', '3', '--servers', 'voix,asterisk,kamailio'],
    peers: ['asterisk', 'kamailio'],
    quickArgs: ['--seconds', '2', '--repeat', '1', '--rates', '100,200', '--servers', 'voix,asterisk,kamailio'],
  },
  'call-setup': {
    script: 'bench/call-setup.ts',
    args: ['--seconds', '8', '--repeat', '3', '--rates', '50,100,150,200,250,300,400,500', '--servers', 'voix,asterisk'],
    peers: ['asterisk'],
    quickArgs: ['--seconds', '3', '--repeat', '1', '--rates', '20,40', '--servers', 'voix,asterisk'],
  },
  relay: {
    script: 'bench/relay.ts',
    args: ['--relays', 'voix,voix-server,rtpengine,asterisk', '--calls', '200,400,600,800', '--seconds', '5', '--retries', '1', '--confirm', '3'],
    peers: ['rtpengine', 'asterisk'],
    quickArgs: ['--relays', 'voix,voix-server,rtpengine,asterisk', '--calls', '20', '--seconds', '2', '--retries', '0', '--confirm', '2'],
  },
  'relay-srtp': {
    script: 'bench/relay.ts',
    args: ['--srtp', '--relays', 'voix,voix-server,asterisk', '--calls', '100,200,400,600', '--seconds', '5', '--retries', '1', '--confirm', '3'],
    peers: ['asterisk'],
    quickArgs: ['--srtp', '--relays', 'voix,voix-server,asterisk', '--calls', '20', '--seconds', '2', '--retries', '0', '--confirm', '2'],
  },
  ivr: {
    script: 'bench/ivr-playout.ts',
    args: ['--calls', '1,100,500,1000', '--window', '7', '--repeat', '3', '--servers', 'voix,asterisk'],
    peers: ['asterisk'],
    quickArgs: ['--calls', '1,20', '--window', '2', '--repeat', '2', '--servers', 'voix,asterisk'],
  },
  srtp: {
    script: 'bench/srtp.ts',
    args: ['--seconds', '1', '--rounds', '3', '--paths', 'voix-srtp-session,voix-srtp-session-ts'],
    peers: ['libsrtp2'],
    quickArgs: ['--seconds', '0.3', '--rounds', '1', '--paths', 'voix-srtp-session'],
  },
  dialer: {
    script: 'bench/dialer-pacing.ts',
    args: ['--rates', '10,50', '--seconds', '45', '--windows', '3'],
    peers: [],
    quickArgs: ['--rates', '5', '--seconds', '6', '--windows', '2'],
  },
} as const satisfies Record<string, Workload>;

export type WorkloadName = keyof typeof WORKLOADS;
