/**
 * Full SIP servers as relays under test for bench/relay.ts: voix (node
 * dist/server.js, "voix-server") and Asterisk 22 (bench/peers/asterisk.ts),
 * each with users 1001 and 1002 (digest), PCMU only, media anchored, RTP on
 * 127.0.0.1 in the bench's relay port range, all its threads started on
 * the relay core(s) with taskset. The bench's SIP user agent
 * (relay-sip-ua.ts) registers 1002 and places every call of a step from
 * 1001 to 1002, one at a time, before the media starts: A's offer and B's
 * answer carry the generator phones' ports and, with --srtp, their SDES
 * keys (a=crypto, AES_CM_128_HMAC_SHA1_80, on both legs); the SDP the server
 * writes gives each phone the port it sends to and the key it checks with.
 * During the measured traffic the signalling is idle: what is measured is
 * each server's media path, in its whole process.
 *
 * SRTP over UDP signalling: voix refuses SDES keys on a plaintext
 * transport unless security.sdes_over_plaintext is set (RFC 4568 §8); the
 * benchmark sets it, as Asterisk accepts them by default. Both then relay
 * SRTP with their own keys on each leg (unprotect, protect).
 *
 * What each does to the RTP header (checked from captures): voix keeps
 * SSRC, sequence numbers and timestamps, plain or SRTP. Asterisk keeps all
 * three in plain RTP (its native RTP bridge forwards packet to packet); with
 * SRTP it bridges through its core (simple_bridge: a frame read, a frame
 * written) and writes its own SSRC and sequence numbers but keeps the
 * timestamps, so its packets are matched by leg and RTP timestamp
 * (matchBy 'timestamp').
 *
 * CPU: every thread of the process (schedstat), the signalling's included
 * (idle then). Memory per call: anonymous resident memory (RssAnon) after
 * the traffic minus at start, per call: for voix, its V8 heaps and garbage
 * not yet collected as well (indicative). Noise on the relay core: these
 * servers run many threads on it (Asterisk one or two per channel), which
 * wait for each other; their run-queue waits do not tell another
 * process's share, so only the other processes' CPU (the bench's
 * "others %") judges the noise.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import type { SrtpKeying } from '../src/rtp/media-protocol.js';
import { chooseCrypto, formatCryptoAttribute, generateSrtpKeying } from '../src/sdp/crypto-attribute.js';
import { asteriskVersion, ensureAsteriskRootfs, startAsterisk } from './peers/asterisk.js';
import { BenchSipUa, type SipUser } from './relay-sip-ua.js';
import { freePort, killOnExit, stopProcess, threadSchedMs } from './relay-machine.js';
import { procStatusBytes, sdpAudioPort, wire, type RelayPorts, type RelayUnderTest, type Sample } from './relay-under-test.js';
import { benchServerYaml, startVoixProcess } from './voix-process.js';
import { builtVoix } from './voix-build.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SUITE = 'AES_CM_128_HMAC_SHA1_80';

export interface SipServerOptions {
  readonly srtp: boolean;
  /** voix's media threads (media.workers); Asterisk has no such setting (a thread per channel). */
  readonly workers: number;
  readonly portMin: number;
  readonly portMax: number;
  /** taskset prefix putting the server on the relay core(s); empty for none. */
  readonly pin: readonly string[];
  readonly say: (line: string) => void;
}

/** A server process as started: its SIP port and how to stop it. */
interface Launched {
  readonly sipPort: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** A phone's SDP: PCMU 20 ms on 127.0.0.1:port, plain or with one a=crypto line. */
function uaSdp(port: number, profile: string, crypto: { readonly tag: number; readonly keying: SrtpKeying } | null): string {
  return [
    'v=0',
    `o=- ${port} 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} ${profile} 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=ptime:20',
    ...(crypto === null ? [] : [`a=crypto:${formatCryptoAttribute(crypto.tag, crypto.keying)}`]),
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** The key a server put in its SDP for our suite, with its tag; throws when it put none. */
function serverCrypto(sdp: string, who: string): { readonly tag: number; readonly keying: SrtpKeying } {
  const values = [...sdp.matchAll(/^a=crypto:(.*)$/gm)].map((m) => (m[1] ?? '').trim());
  const choice = chooseCrypto(values, [SUITE]);
  if (!choice.ok) throw new Error(`${who}: no usable ${SUITE} a=crypto in its SDP (${choice.reason}):\n${sdp}`);
  return choice.chosen;
}

function profileOf(sdp: string): string {
  return /^m=audio \d+ (\S+) /m.exec(sdp)?.[1] ?? 'RTP/AVP';
}

/** A SIP server relaying the generator's media, calls set up by the bench's user agent. */
/** What distinguishes one server from the other for the bench. */
interface ServerKind {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly matchBy: 'ssrc' | 'timestamp';
  /** Memory per call from the server's start (a C heap), or from before each step (a Node process: its start is full of garbage). */
  readonly memoryFromStart: boolean;
}

export class SipServerRelay implements RelayUnderTest {
  readonly judged = true;
  readonly pinnedAtStart = true;
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly matchBy: 'ssrc' | 'timestamp';
  readonly memoryFromStart: boolean;

  private constructor(
    kind: ServerKind,
    private readonly server: Launched,
    private readonly ua: BenchSipUa,
    private readonly srtp: boolean,
  ) {
    this.name = kind.name;
    this.version = kind.version;
    this.description = kind.description;
    this.matchBy = kind.matchBy;
    this.memoryFromStart = kind.memoryFromStart;
  }

  /** Starts the server, then the user agent (1002 registered). */
  static async start(kind: ServerKind, srtp: boolean, launch: (users: Readonly<Record<'1001' | '1002', string>>) => Promise<Launched>): Promise<SipServerRelay> {
    const passwords = { '1001': `bench-${randomBytes(6).toString('hex')}`, '1002': `bench-${randomBytes(6).toString('hex')}` };
    const server = await launch(passwords);
    try {
      const caller: SipUser = { user: '1001', password: passwords['1001'] };
      const callee: SipUser = { user: '1002', password: passwords['1002'] };
      const ua = await BenchSipUa.start({ host: '127.0.0.1', port: server.sipPort }, caller, callee);
      return new SipServerRelay(kind, server, ua, srtp);
    } catch (err) {
      await server.stop();
      throw err;
    }
  }

  get pid(): number {
    return this.server.pid;
  }

  async setUp(phones: ReadonlyArray<{ readonly a: number; readonly b: number }>): Promise<RelayPorts[]> {
    const ports: RelayPorts[] = [];
    for (const phone of phones) {
      const aKey = this.srtp ? generateSrtpKeying(SUITE) : null;
      const bKey = this.srtp ? generateSrtpKeying(SUITE) : null;
      const offer = uaSdp(phone.a, this.srtp ? 'RTP/SAVP' : 'RTP/AVP', aKey === null ? null : { tag: 1, keying: aKey });
      const sdp = await this.ua.call(offer, (offerToCallee) =>
        // B answers in the offer's profile, on the offered tag (RFC 4568 §5.1.2).
        uaSdp(phone.b, profileOf(offerToCallee), bKey === null ? null : { tag: serverCrypto(offerToCallee, `${this.name}'s offer to 1002`).tag, keying: bKey }),
      );
      const a = sdpAudioPort(sdp.answerToCaller);
      const b = sdpAudioPort(sdp.offerToCallee);
      if (aKey === null || bKey === null) {
        ports.push({ a, b });
        continue;
      }
      const aReceive = serverCrypto(sdp.answerToCaller, `${this.name}'s answer to 1001`).keying;
      const bReceive = serverCrypto(sdp.offerToCallee, `${this.name}'s offer to 1002`).keying;
      ports.push({ a, b, keys: { aSend: wire(aKey), aReceive: wire(aReceive), bSend: wire(bKey), bReceive: wire(bReceive) } });
    }
    return ports;
  }

  private threads(): Array<{ readonly tid: number; readonly name: string }> {
    try {
      return readdirSync(`/proc/${this.pid}/task`).map((tid) => {
        let name = '';
        try {
          name = readFileSync(`/proc/${this.pid}/task/${tid}/comm`, 'utf8').trim();
        } catch {
          // thread gone
        }
        return { tid: Number(tid), name };
      });
    } catch {
      return [];
    }
  }

  sample(): Promise<Sample> {
    let cpuMs = 0;
    for (const t of this.threads()) {
      const { cpuMs: ms } = threadSchedMs(this.pid, t.tid);
      if (!Number.isNaN(ms)) cpuMs += ms;
    }
    return Promise.resolve({ cpuMs, loopDelayMaxMs: Number.NaN, gcPauseMaxMs: Number.NaN });
  }

  /** See the header: not measured for these multi-threaded servers (0: never noise). */
  waitMs(): number {
    return 0;
  }

  cpuByThread(): Map<string, number> {
    const byName = new Map<string, number>();
    for (const t of this.threads()) {
      const { cpuMs } = threadSchedMs(this.pid, t.tid);
      if (!Number.isNaN(cpuMs)) byName.set(t.name, (byName.get(t.name) ?? 0) + cpuMs);
    }
    return byName;
  }

  memoryBytes(): Promise<number> {
    return Promise.resolve(procStatusBytes(this.pid, 'RssAnon'));
  }

  rssBytes(): number {
    return procStatusBytes(this.pid, 'VmRSS');
  }

  osThreadIds(): Promise<number[]> {
    return Promise.resolve(this.threads().map((t) => t.tid));
  }

  tearDown(): Promise<void> {
    return this.ua.hangUpAll();
  }

  async stop(): Promise<void> {
    this.ua.close();
    await this.server.stop();
  }
}


/**
 * voix as in production (node dist/server.js), users 1001 and 1002 on UDP
 * (srtp: required with --srtp, off otherwise), --workers media threads,
 * security.sdes_over_plaintext with --srtp. Needs `npm run build`.
 */
export function startVoixServer(options: SipServerOptions, dir: string): Promise<SipServerRelay> {
  const version = `voix ${builtVoix()} (node dist/server.js), Node ${process.version}`;
  const kind: ServerKind = {
    name: 'voix-server',
    version,
    description: `${version}: the whole server (users 1001 and 1002 on UDP, MD5 digest, ${options.srtp ? 'srtp: required and security.sdes_over_plaintext' : 'srtp: off'}, ${options.workers} media thread(s)), all its threads on the relay core(s); calls set up by the bench's SIP user agent (bench/relay-sip-ua.ts) before the traffic; CPU: its whole process (every thread's schedstat; the signalling idles); relay waited: not measured (its threads share the core; others % judges the noise); state/call: anonymous resident memory (RssAnon) after the traffic minus before the step's calls (V8 heaps with garbage not yet collected: indicative); RSS/call: VmRSS after the traffic minus before the first step; it keeps SSRC and sequence numbers`,
    matchBy: 'ssrc',
    memoryFromStart: false,
  };
  return SipServerRelay.start(kind, options.srtp, async (passwords) => {
    const sipPort = await freePort();
    const yaml = [
      ...benchServerYaml(dir, sipPort),
      ...(options.srtp ? ['security:', '  sdes_over_plaintext: true'] : []),
      'users:',
      ...Object.entries(passwords).map(([extension, password]) => `  - { extension: "${extension}", password: "${password}", transports: [udp], srtp: ${options.srtp ? 'required' : 'off'} }`),
      'media:',
      '  address: 127.0.0.1',
      `  port_min: ${options.portMin}`,
      `  port_max: ${options.portMax}`,
      `  workers: ${options.workers}`,
    ];
    const child = await startVoixProcess(dir, yaml, options.pin);
    killOnExit(child);
    return { sipPort, pid: child.pid ?? 0, stop: () => stopProcess(child) };
  });
}

/**
 * Asterisk 22 configured as voix (bench/peers/asterisk.ts: PJSIP UDP, same
 * users, PCMU only, direct_media = no, rtp_symmetric), media_encryption =
 * sdes on both endpoints with --srtp; Dial(PJSIP/1002,30).
 */
export function startAsteriskServer(options: SipServerOptions): Promise<SipServerRelay> {
  const rootfs = ensureAsteriskRootfs(options.say);
  const version = asteriskVersion(rootfs);
  const kind: ServerKind = {
    name: 'asterisk',
    version,
    description: `${version}: PJSIP on UDP, the same users and digest, PCMU only, direct_media = no, rtp_symmetric${options.srtp ? ', media_encryption = sdes' : ''}, Dial(PJSIP/1002,30), all its threads on the relay core(s); calls set up by the bench's SIP user agent before the traffic; ${options.srtp ? 'it bridges through its core (simple_bridge) and writes its own SSRC and sequence numbers but keeps RTP timestamps: packets matched by leg and timestamp' : 'native RTP bridge: SSRC, sequence numbers and timestamps kept'} (checked from a capture); CPU: its whole process (every thread's schedstat); relay waited: not measured (a thread per channel; others % judges the noise); state/call: anonymous resident memory (RssAnon) after the traffic minus at its start; RSS/call: VmRSS, the same way`,
    // SRTP: Asterisk bridges through its core and rewrites SSRC and sequence numbers (see the header).
    matchBy: options.srtp ? 'timestamp' : 'ssrc',
    memoryFromStart: true,
  };
  return SipServerRelay.start(kind, options.srtp, async (passwords) => {
    const sipPort = await freePort();
    const asterisk = await startAsterisk({
      rootfs,
      sipPort,
      rtpStart: options.portMin,
      rtpEnd: options.portMax,
      users: passwords,
      dialplan: ['exten => 1002,1,Dial(PJSIP/1002,30)', ' same => n,Hangup()'],
      pin: options.pin,
      endpointOptions: options.srtp ? ['media_encryption = sdes'] : [],
    });
    killOnExit(asterisk.child);
    const pid = asterisk.asteriskPid();
    if (pid === null) throw new Error('asterisk booted but its process was not found');
    return { sipPort, pid, stop: () => asterisk.stop() };
  });
}
