/**
 * A real Linphone (Debian's liblinphone 5.1 / belle-sip 5.1, package
 * linphone-cli) as a phone under test control, through `linphone-daemon`.
 *
 * What we learned about it, by running it:
 *
 * - Control: `linphone-daemon --pipe NAME` listens on a unix socket at
 *   `/tmp/NAME` (NAME may contain slashes: we put it in the run's temp dir).
 *   One client at a time. One command per write (the daemon reads up to 32 KiB
 *   and runs only the first line), so commands are sent one after the other.
 *   Each answer is written at once: `Status: Ok|Error\n`, then
 *   `Reason: …\n` on errors, then `\n<body>\n` where the body is
 *   `Key: value` lines (blocks separated by blank lines for `… ALL`). There is
 *   no end marker: an answer is what one read returns (one write on a local
 *   stream socket). `linphone-daemon --dump-commands-help` lists the commands.
 * - Events: only call-state-changed, receiving-tone (DTMF), chat messages
 *   and RTP statistics (off: --disable-stats-events); **no registration
 *   events**. While a client is connected they
 *   are queued until `pop-event` (answer `Size: <left>` then
 *   `Event-type: …` and the body), so this helper polls it every 50 ms.
 *   Registration outcomes are read from the log instead (see below).
 * - Logs: `--log <path>` opens the path with fopen() and, when that fails,
 *   logs to stdout, line by line. We give /dev/stdout: process.ts's stdio
 *   are socketpairs, which /dev/stdout cannot reopen, so the log comes on
 *   stdout either way (/dev/stderr would too). Without --log: no log at all.
 *   At the default level it has every SIP message sent and received in full
 *   (TLS decrypted): `channel [..]: message sent to
 *   [UDP://127.0.0.1:5060], size: [508] bytes` / `received [343] new bytes
 *   from [UDP://…]:` followed by the message, up to the next timestamped line
 *   (sipMessages() parses them), plus `Register refresher [200] reason [OK]
 *   for proxy […]` and `Account [..] for identity [sip:…] moving from state
 *   [LinphoneRegistrationProgress] to [LinphoneRegistrationOk]`.
 * - The config file (`--config`) is read *and written back* (accounts and
 *   auth infos added by commands are saved in it, with the HA1 computed): each
 *   start writes a fresh one in a new temp dir, and HOME points there (the
 *   message database goes to $HOME/.local/share/linphone).
 * - Accounts: the one given to start() is written in the config
 *   (`[proxy_0]` reg_identity, reg_proxy, reg_expires, reg_sendregister;
 *   `[auth_info_0]` username, passwd, userid) and gets daemon id 1; it
 *   registers as soon as the core starts. The daemon's `register <identity>
 *   <proxy> <password> <userid> <realm> [<contact params>]` (register())
 *   adds more, but always with Expires 3600: it ignores
 *   `[proxy_default_values] reg_expires`.
 * - IPv6: `[sip] use_ipv6=0` only holds with `ipv6_migration_done=1` (the
 *   first start otherwise deletes use_ipv6 as a "migration"); without it the
 *   SDP offer had `c=IN IP6 <the host's global IPv6>`.
 * - Digest: answers `algorithm=SHA-256` (RFC 8760) and MD5, qop=auth: with a
 *   401 offering SHA-256 then MD5 it answers the SHA-256 one. Auth infos are
 *   matched by username only (realm NULL), first one first: a stale one
 *   would be used before a new one, hence the fresh config per start.
 * - REGISTER: From/To carry `sip:user@host` *without the port* of the
 *   identity; the Request-URI is the proxy's without `;transport=`; one
 *   Call-ID for the registration and its refreshes. `unregister <id>`
 *   removes the account, which sends REGISTER with `Expires: 0`. voix
 *   accepted these (SHA-256, UDP/TCP/TLS) when tried.
 * - TLS: `[sip] root_ca` (file or directory), `verify_server_certs`,
 *   `verify_server_cn`. bctoolbox uses mbedTLS 2.28, which matches the
 *   server name against DNS names only, never IP addresses: connecting to
 *   127.0.0.1 with verify_server_cn=1 fails (`flags=[CN-mismatch]`) unless
 *   the certificate has `DNS:127.0.0.1`. Hence `verifyServerName` is off
 *   unless asked for; `verifyServer` alone checks the chain (a certificate
 *   from another CA: `flags=[not-trusted]`, registration fails "503 io error").
 * - Sound: there is no sound card here (ALSA/PulseAudio find nothing); calls
 *   still work ("No card defined for capture!"), and send no RTP until a WAV
 *   file is played into the call with `incall-player-start <wav>`
 *   (playFile()): then PCMU flows at 20 ms both ways.
 * - `call-stats` crashes this daemon (SIGSEGV in liblinphone) on an audio
 *   call: do not use it; measure RTP with tshark.
 * - SRTP: `[sip] media_encryption=srtp` (SDES): the offer is `RTP/SAVP` with
 *   four `a=crypto` suites (AES_CM_128_HMAC_SHA1_80 first), with or without
 *   `media_encryption_mandatory=1`; a plain RTP/AVP answer fails the call
 *   (LinphoneCallError, BYE sent). The config also takes `zrtp` and `dtls`
 *   (not tried here).
 * - Ports: `[sip] sip_port` (UDP), `sip_tcp_port`, `sip_tls_port` (-1:
 *   random), `bind_address` (SIP); `[rtp] audio_rtp_port` takes a range
 *   `min-max` (a random port in it is used), `[rtp] bind_address` is the
 *   RTP sockets' address and the SDP's c= (without it: the address of the
 *   default route, 192.0.2.2 here, even for a call to 127.0.0.1).
 *   A port in use gives `udp bind() failed for … Address already in use` in
 *   the log (the daemon keeps running), which start() treats as a failure.
 * - Stopping: `quit` ends it in ~0.1 s (exit 0); SIGINT too (per the
 *   source). SIGTERM kills it at once (no handler): nothing is unregistered,
 *   and the control socket file stays (it is in the temp dir).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { join, relative, sep } from 'node:path';
import type { TracedSipMessage } from './baresip-trace.js';
import { makeTempDir, registerCleanup } from './cleanup.js';
import { EventLog } from './event-log.js';
import { getFreePortRange } from './ports.js';
import { startProcess, type ManagedProcess, type OutputLine } from './process.js';

export type LinphoneTransport = 'udp' | 'tcp' | 'tls';

/** Same shape as BaresipAccount (voix.account() works for both). */
export interface LinphoneAccount {
  /** User part of the identity, and the digest username. */
  readonly user: string;
  readonly password: string;
  /** Host part of the identity: "host:port" (or a name, with `outbound` to reach it). */
  readonly domain: string;
  readonly transport: LinphoneTransport;
  /** "host:port" of the proxy to send to, instead of the domain. */
  readonly outbound?: string;
  /** Digest userid when it differs from the user. */
  readonly authUser?: string;
  /** Registration interval in seconds asked for (REGISTER Expires); default 3600; 0: do not register. */
  readonly regint?: number;
}

export type LinphoneMediaEncryption = 'none' | 'srtp' | 'zrtp' | 'dtls';

export interface LinphoneOptions {
  /**
   * The account (daemon id 1), written in the config: it registers as soon as linphone starts, unless
   * `register` is false or regint is 0 (then it only names the caller of calls).
   */
  readonly account?: LinphoneAccount;
  /** Default true. */
  readonly register?: boolean;
  /** [sip] root_ca: the CA (file or directory) to trust for SIP over TLS; default /etc/ssl/certs. */
  readonly caFile?: string;
  /** [sip] verify_server_certs: check the server's chain against caFile; default true when caFile is given. */
  readonly verifyServer?: boolean;
  /**
   * [sip] verify_server_cn: also check the name connected to against the certificate's DNS names; default
   * false (mbedTLS 2.28 never matches IP addresses: 127.0.0.1 needs a DNS:127.0.0.1 name).
   */
  readonly verifyServerName?: boolean;
  /**
   * [sip] and [rtp] bind_address: SIP over UDP leaves from it (Via, Contact), RTP binds it and the SDP names it;
   * default 127.0.0.1.
   */
  readonly localAddress?: string;
  /** [sip] media_encryption; default none. */
  readonly mediaEncryption?: LinphoneMediaEncryption;
  /** [sip] media_encryption_mandatory; default false. */
  readonly mediaEncryptionMandatory?: boolean;
  /** --auto-answer: accept incoming calls at once. */
  readonly autoAnswer?: boolean;
  /** More config, merged into the generated one: { section: { key: value } }. */
  readonly extraConfig?: Readonly<Record<string, Readonly<Record<string, string | number>>>>;
  readonly label?: string;
  /** Bound on start-up (control socket, first answer); default 10 000 ms. */
  readonly startTimeoutMs?: number;
}

export interface LinphoneResponse {
  readonly ok: boolean;
  /** "Reason:" of an error. */
  readonly reason: string;
  /** Everything after the status lines, as sent. */
  readonly body: string;
  /** `Key: value` lines of the body (first occurrence of each key). */
  readonly fields: Readonly<Record<string, string>>;
  readonly raw: string;
}

export interface LinphoneEvent {
  /** Event-type: call-state-changed, receiving-tone (DTMF: fields Tone, From, Id)… */
  readonly type: string;
  /** Its `Key: value` lines, e.g. { Event: 'LinphoneCallStreamsRunning', From: 'sip:…', Id: '1' }. */
  readonly fields: Readonly<Record<string, string>>;
  readonly text: string;
  /** Date.now() when polled. */
  readonly at: number;
}

export interface LinphoneRegistrationOutcome {
  readonly ok: boolean;
  /** LinphoneRegistrationOk, LinphoneRegistrationFailed, LinphoneRegistrationCleared. */
  readonly state: string;
  /** "200 OK", "403 Forbidden", "503 io error" (a local failure: TLS, connection)…; '' when none was logged. */
  readonly status: string;
  readonly code: number | null;
}

/** A SIP message from linphone's log. */
export interface LinphoneSipMessage extends TracedSipMessage {
  readonly direction: 'sent' | 'received';
  /** The peer as logged, e.g. 127.0.0.1:5060 (source when received, destination when sent). */
  readonly remote: string;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}:\d{3} /;
const SENT = /channel \[[^\]]*\]: message sent to \[(\w+):\/\/([^\]]+)\], size: \[\d+\] bytes$/;
const RECEIVED = /channel \[[^\]]*\]: received \[\d+\] new bytes from \[(\w+):\/\/([^\]]+)\]:$/;
const START_LINE = /^(SIP\/2\.0 \d{3}( |$)|[A-Z]+ \S+ SIP\/2\.0$)/;
const STATE_CHANGE = /for identity \[([^\]]*)\] moving from state \[(\w+)\] to \[(\w+)\]/;
const REFRESHER = /Register refresher \[(\d+)\] reason \[([^\]]*)\] for proxy \[([^\]]*)\]/;
const BIND_FAILURE = /bind\(\) failed|Address already in use/;
const EVENT_POLL_MS = 50;

/** Parses `Key: value` lines (first occurrence wins). */
function parseFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z][\w-]*): ?(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined && !(match[1] in fields)) fields[match[1]] = match[2];
  }
  return fields;
}

export function parseLinphoneResponse(raw: string): LinphoneResponse {
  const lines = raw.split('\n');
  const status = /^Status: (\w+)/.exec(lines[0] ?? '')?.[1] ?? '';
  let index = 1;
  let reason = '';
  if (lines[index]?.startsWith('Reason: ') === true) {
    reason = (lines[index] ?? '').slice('Reason: '.length);
    index += 1;
  }
  const body = lines.slice(index).join('\n').replace(/^\n/, '').replace(/\n+$/, '');
  return { ok: status === 'Ok', reason, body, fields: parseFields(body), raw };
}

function checkAccount(account: LinphoneAccount): void {
  for (const [name, value] of [
    ['user', account.user],
    ['password', account.password],
    ['domain', account.domain],
    ['outbound', account.outbound ?? ''],
    ['authUser', account.authUser ?? ''],
  ] as const) {
    if (/[\s<>"]/.test(value) || value === 'NULL') throw new Error(`linphone account ${name} must not contain spaces, '<', '>' or '"'`);
  }
}

function identityOf(account: LinphoneAccount): string {
  return `sip:${account.user}@${account.domain}`;
}

function proxyOf(account: LinphoneAccount): string {
  return `sip:${account.outbound ?? account.domain};transport=${account.transport}`;
}

function configText(sections: Record<string, Record<string, string | number>>): string {
  const parts = ['# Written by test/e2e/harness/linphone.ts for one run (linphone writes its own state back here).'];
  for (const [section, entries] of Object.entries(sections)) {
    parts.push('', `[${section}]`);
    for (const [key, value] of Object.entries(entries)) parts.push(`${key}=${value}`);
  }
  return `${parts.join('\n')}\n`;
}

/** Where `--pipe NAME` puts the socket: /tmp/NAME (the daemon prefixes /tmp/). */
function pipeName(dir: string): { name: string; path: string; inDir: boolean } {
  const fromTmp = relative('/tmp', dir);
  if (!fromTmp.startsWith('..') && !fromTmp.startsWith(sep) && fromTmp.length > 0) {
    const name = `${fromTmp}/ctl.sock`;
    return { name, path: `/tmp/${name}`, inDir: true };
  }
  const name = `voix-e2e-linphone-${process.pid}-${Math.random().toString(36).slice(2, 10)}.sock`;
  return { name, path: `/tmp/${name}`, inDir: false };
}

/** The SIP messages of linphone's log, parsed line by line as they come. */
class LinphoneLogTrace {
  /** The messages logged so far, in order. */
  readonly messages = new EventLog<LinphoneSipMessage>();
  private current: { direction: 'sent' | 'received'; transport: string; remote: string; lines: string[] } | null = null;

  constructor(
    process: ManagedProcess,
    /** The local side as a trace shows it: ip:port for UDP (sent from the listening socket), ip for TCP/TLS. */
    private readonly local: (transport: string) => string,
  ) {
    process.onLine((line) => {
      if (line.stream === 'stdout') this.feed(line.text);
    });
  }

  private feed(text: string): void {
    if (TIMESTAMP.test(text)) {
      this.flush();
      const sent = SENT.exec(text);
      const received = sent === null ? RECEIVED.exec(text) : null;
      const match = sent ?? received;
      if (match?.[1] !== undefined && match[2] !== undefined) {
        this.current = { direction: sent !== null ? 'sent' : 'received', transport: match[1].toUpperCase(), remote: match[2], lines: [] };
      }
      return;
    }
    this.current?.lines.push(text);
  }

  private flush(): void {
    const current = this.current;
    this.current = null;
    if (current === null) return;
    // A stream read may hold several messages (or CRLF keep-alives): split at start lines after a blank line.
    const groups: string[][] = [];
    let group: string[] = [];
    current.lines.forEach((line, index) => {
      const previous = index === 0 ? '' : current.lines[index - 1];
      if (START_LINE.test(line) && previous === '' && group.some((l) => l.length > 0)) {
        groups.push(group);
        group = [];
      }
      group.push(line);
    });
    groups.push(group);
    for (const lines of groups) {
      while (lines.length > 0 && lines[0] === '') lines.shift();
      while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
      if (lines.length === 0 || !START_LINE.test(lines[0] ?? '')) continue;
      const local = this.local(current.transport);
      this.messages.push({
        direction: current.direction,
        transport: current.transport,
        remote: current.remote,
        source: current.direction === 'sent' ? local : current.remote,
        destination: current.direction === 'sent' ? current.remote : local,
        firstLine: lines[0] ?? '',
        text: `${lines.join('\r\n')}\r\n`,
      });
    }
  }
}

/** The daemon's unix socket: one command at a time, answers as read. */
export class DaemonControl {
  private chain: Promise<unknown> = Promise.resolve();
  private pending: { resolve: (raw: string) => void; reject: (error: Error) => void; buffer: string } | null = null;
  private broken: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const pending = this.pending;
      if (pending === null) return;
      pending.buffer += chunk;
      if (pending.buffer.startsWith('Status: ') && pending.buffer.endsWith('\n')) {
        this.pending = null;
        pending.resolve(pending.buffer);
      }
    });
    const fail = (error: Error): void => {
      this.broken ??= error;
      const pending = this.pending;
      this.pending = null;
      pending?.reject(error);
    };
    socket.on('error', (error) => fail(error));
    socket.on('close', () => fail(new Error('linphone-daemon closed the control socket')));
  }

  /** Connects to the daemon's control socket; a failure carries `controlNeverOpened` (the daemon, not voix, failed to start). */
  static async connect(path: string, timeoutMs: number, alive: () => boolean): Promise<DaemonControl> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown = null;
    while (Date.now() < deadline && alive()) {
      if (existsSync(path)) {
        try {
          const socket = await new Promise<Socket>((resolve, reject) => {
            const candidate = createConnection(path);
            candidate.once('connect', () => {
              candidate.removeAllListeners('error');
              resolve(candidate);
            });
            candidate.once('error', (error) => {
              candidate.destroy();
              reject(error);
            });
          });
          return new DaemonControl(socket);
        } catch (error) {
          lastError = error;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const why = alive() ? `within ${timeoutMs} ms` : 'before linphone-daemon exited';
    throw Object.assign(
      new Error(`could not connect to linphone-daemon at ${path} ${why}${lastError instanceof Error ? `: ${lastError.message}` : ''}`),
      { controlNeverOpened: true },
    );
  }

  command(line: string, timeoutMs: number): Promise<string> {
    if (/[\r\n]/.test(line)) return Promise.reject(new Error('linphone command must be one line'));
    const run = (): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        if (this.broken !== null) {
          reject(this.broken);
          return;
        }
        const timer = setTimeout(() => {
          this.pending = null;
          // A late answer would be taken for the next command's: give up on this connection.
          this.broken = new Error(`linphone-daemon: no answer to "${line}" within ${timeoutMs} ms`);
          this.socket.destroy();
          reject(this.broken);
        }, timeoutMs);
        this.pending = {
          resolve: (raw) => {
            clearTimeout(timer);
            resolve(raw);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
          buffer: '',
        };
        this.socket.write(`${line}\n`);
      });
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  get usable(): boolean {
    return this.broken === null;
  }

  close(): void {
    this.broken ??= new Error('linphone control closed');
    this.socket.destroy();
  }
}

export class Linphone {
  private readonly eventLog = new EventLog<LinphoneEvent>();
  private polling = true;
  private pollTimer: NodeJS.Timeout | null = null;
  private accountId: number | null = null;
  private accountIdentity: string | null = null;
  /** Log line index taken before the last register command. */
  private registrationSince = 0;

  private constructor(
    readonly process: ManagedProcess,
    private readonly control: DaemonControl,
    private readonly trace: LinphoneLogTrace,
    /** The run's directory: config (linphonerc), HOME, control socket. */
    readonly dir: string,
    readonly configPath: string,
    readonly socketPath: string,
    readonly localAddress: string,
    /** UDP and TCP port linphone listens on for SIP. */
    readonly sipPort: number,
    /** TLS port linphone listens on. */
    readonly tlsPort: number,
    /** First of the 10 audio RTP ports ([rtp] audio_rtp_port). */
    readonly rtpPort: number,
  ) {
    this.schedulePoll(0);
  }

  static async start(options: LinphoneOptions = {}): Promise<Linphone> {
    const dir = await makeTempDir('linphone');
    await mkdir(join(dir, '.local', 'share', 'linphone'), { recursive: true });
    const localAddress = options.localAddress ?? '127.0.0.1';
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    const configPath = join(dir, 'linphonerc');
    const pipe = pipeName(dir);
    if (!pipe.inDir) registerCleanup(`remove ${pipe.path}`, () => rm(pipe.path, { force: true }));
    const verifyServer = options.verifyServer ?? options.caFile !== undefined;
    let lastError: unknown = null;
    // A port picked free may be taken before linphone binds it: try again with others.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const sipPort = await getFreePortRange(2, localAddress);
      const rtpPort = await getFreePortRange(10, localAddress);
      const sections: Record<string, Record<string, string | number>> = {
        sip: {
          sip_port: sipPort,
          sip_tcp_port: sipPort,
          sip_tls_port: sipPort + 1,
          bind_address: localAddress,
          contact: `sip:${options.account?.user ?? 'linphone'}@${localAddress}`,
          guess_hostname: 0,
          use_ipv6: 0,
          ipv6_migration_done: 1,
          root_ca: options.caFile ?? '/etc/ssl/certs',
          verify_server_certs: verifyServer ? 1 : 0,
          verify_server_cn: options.verifyServerName === true ? 1 : 0,
          media_encryption: options.mediaEncryption ?? 'none',
          media_encryption_mandatory: options.mediaEncryptionMandatory === true ? 1 : 0,
          inc_timeout: 60,
        },
        rtp: {
          audio_rtp_port: `${rtpPort}-${rtpPort + 9}`,
          video_rtp_port: `${rtpPort}-${rtpPort + 9}`,
          text_rtp_port: `${rtpPort}-${rtpPort + 9}`,
          // The RTP sockets' address and the SDP's c= (else the address of the default route).
          bind_address: localAddress,
        },
        video: { capture: 0, display: 0, automatically_initiate: 0, automatically_accept: 0 },
        sound: { echocancellation: 0 },
      };
      const account = options.account;
      if (account !== undefined) {
        checkAccount(account);
        // An account from the config file (daemon id 1): its Expires can be chosen, unlike one made with `register`.
        sections.sip = { ...sections.sip, default_proxy: 0 };
        sections.proxy_0 = {
          reg_identity: identityOf(account),
          reg_proxy: proxyOf(account),
          reg_expires: account.regint ?? 3600,
          reg_sendregister: options.register === false || account.regint === 0 ? 0 : 1,
        };
        sections.auth_info_0 = { username: account.user, passwd: account.password, ...(account.authUser === undefined ? {} : { userid: account.authUser }) };
      }
      for (const [section, entries] of Object.entries(options.extraConfig ?? {})) {
        sections[section] = { ...(sections[section] ?? {}), ...entries };
      }
      await writeFile(configPath, configText(sections));
      const child = startProcess({
        command: 'linphone-daemon',
        args: [
          '--config',
          configPath,
          '--log',
          '/dev/stdout',
          '--pipe',
          pipe.name,
          '--disable-stats-events',
          ...(options.autoAnswer === true ? ['--auto-answer'] : []),
        ],
        cwd: dir,
        env: { HOME: dir },
        label: options.label ?? `linphone ${options.account?.user ?? ''}`.trim(),
        // SIGTERM kills linphone-daemon at once (it only handles SIGINT).
        cleanupGraceMs: 1000,
      });
      const trace = new LinphoneLogTrace(child, (transport) => (transport === 'UDP' ? `${localAddress}:${sipPort}` : localAddress));
      let control: DaemonControl | null = null;
      try {
        control = await DaemonControl.connect(pipe.path, timeoutMs, () => child.running);
        // The first answer comes once the core exists and its transports were opened (or not).
        const version = parseLinphoneResponse(await control.command('version', timeoutMs));
        if (!version.ok) throw new Error(`linphone-daemon did not answer "version": ${version.raw}`);
        if (child.lines().some((line) => BIND_FAILURE.test(line.text))) {
          throw Object.assign(new Error(`linphone could not bind its ports:\n${child.output(40)}`), { bindFailure: true });
        }
        const phone = new Linphone(child, control, trace, dir, configPath, pipe.path, localAddress, sipPort, sipPort + 1, rtpPort);
        if (account !== undefined) await phone.adopt(1);
        return phone;
      } catch (error) {
        control?.close();
        const diagnostics = child.diagnostics();
        await child.kill();
        const bindFailure = child.lines().some((line) => BIND_FAILURE.test(line.text));
        const neverOpened = (error as { controlNeverOpened?: boolean }).controlNeverOpened === true;
        lastError = neverOpened && error instanceof Error ? new Error(`${error.message}\n${diagnostics}`) : error;
        // Ports taken meanwhile, or a daemon that never opened its control socket (hung or crashed while starting,
        // before it talks to voix): start another one. Anything later is about voix and is not retried.
        if (!bindFailure && !neverOpened) break;
        if (neverOpened) process.stderr.write(`linphone-daemon did not start (attempt ${attempt + 1} of 3), starting another: ${(lastError as Error).message}\n`);
        await rm(pipe.path, { force: true });
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /** The daemon's id of the account registered last (register-status <id>), or null. */
  get account(): number | null {
    return this.accountId;
  }

  /** The identity of the account registered last, e.g. sip:1001@127.0.0.1:5060. */
  get aor(): string | null {
    return this.accountIdentity;
  }

  /** Runs one daemon command (e.g. "register-status ALL", "config-get sip root_ca"); ok false included. */
  async command(line: string, timeoutMs = 5000): Promise<LinphoneResponse> {
    return parseLinphoneResponse(await this.control.command(line, timeoutMs));
  }

  private async commandOk(line: string, timeoutMs = 5000): Promise<LinphoneResponse> {
    const response = await this.command(line, timeoutMs);
    if (!response.ok) throw new Error(`linphone "${line}" failed: ${response.reason || response.raw}`);
    return response;
  }

  /**
   * Adds another account and starts registering (daemon `register`):
   * identity sip:user@domain, proxy sip:(outbound|domain);transport=…, an
   * auth info for the user with any realm. Expires is always 3600 (regint is
   * ignored: give the account to start() to choose it). Returns the daemon's
   * account id; waitForRegistration()/unregister() then work on it.
   */
  async register(account: LinphoneAccount): Promise<number> {
    checkAccount(account);
    const since = this.process.mark();
    const response = await this.commandOk(
      `register ${identityOf(account)} ${proxyOf(account)} ${account.password} ${account.authUser ?? 'NULL'} NULL`,
    );
    const id = Number(response.fields.Id);
    if (!Number.isInteger(id)) throw new Error(`linphone register: no Id in ${response.raw}`);
    await this.adopt(id, since);
    return id;
  }

  /** Makes account `id` the one register-status/waitForRegistration/unregister work on. */
  private async adopt(id: number, since = 0): Promise<void> {
    const info = await this.commandOk(`register-info ${id}`);
    const identity = info.fields.Identity;
    if (identity === undefined) throw new Error(`linphone register-info ${id}: no Identity in ${info.raw}`);
    this.accountId = id;
    this.accountIdentity = identity;
    this.registrationSince = since;
  }

  /** Index of the next log line: pass as `since` to waitForRegistration() to wait for a later outcome. */
  logMark(): number {
    return this.process.mark();
  }

  /** register-status of an account (default: the last registered): LinphoneRegistrationOk, …Progress, …Failed. */
  async registrationState(id = this.accountId): Promise<string | null> {
    if (id === null) return null;
    const response = await this.command(`register-status ${id}`);
    return response.ok ? (response.fields.State ?? null) : null;
  }

  private waitForState(
    identity: string,
    states: readonly string[],
    timeoutMs: number,
    since: number,
  ): Promise<LinphoneRegistrationOutcome> {
    let status = '';
    let code: number | null = null;
    return this.process
      .waitForLine(
        (text) => {
          const refresher = REFRESHER.exec(text);
          if (refresher?.[1] !== undefined) {
            code = Number(refresher[1]);
            status = `${refresher[1]} ${refresher[2] ?? ''}`.trim();
            return false;
          }
          const change = STATE_CHANGE.exec(text);
          return change?.[1] === identity && states.includes(change[3] ?? '');
        },
        timeoutMs,
        { since, stream: 'stdout' },
      )
      .then((line) => {
        const state = STATE_CHANGE.exec(line.text)?.[3] ?? '';
        return { ok: state === 'LinphoneRegistrationOk' || state === 'LinphoneRegistrationCleared', state, status, code };
      });
  }

  /**
   * The first registration outcome (Ok or Failed) of the last registered
   * account since register() (or since `since`, a logMark()), with the status
   * of the answer that decided it.
   */
  async waitForRegistration(timeoutMs: number, since = this.registrationSince): Promise<LinphoneRegistrationOutcome> {
    const identity = this.accountIdentity;
    if (identity === null) throw new Error('linphone: no account registered');
    return this.waitForState(identity, ['LinphoneRegistrationOk', 'LinphoneRegistrationFailed'], timeoutMs, since);
  }

  /**
   * Unregisters and removes the account (daemon `unregister <id>`: REGISTER
   * with Expires 0). Resolves with the status answered to it, or null when the
   * account was not registered (nothing is sent then).
   */
  async unregister(timeoutMs = 10_000): Promise<{ status: string | null }> {
    const id = this.accountId;
    const identity = this.accountIdentity;
    if (id === null || identity === null) throw new Error('linphone: no account to unregister');
    const state = await this.registrationState(id);
    const since = this.process.mark();
    await this.commandOk(`unregister ${id}`);
    this.accountId = null;
    this.accountIdentity = null;
    if (state !== 'LinphoneRegistrationOk') return { status: null };
    const outcome = await this.waitForState(identity, ['LinphoneRegistrationCleared', 'LinphoneRegistrationFailed'], timeoutMs, since);
    return { status: outcome.status.length > 0 ? outcome.status : null };
  }

  // ----- calls -----

  /** Places a call (daemon `call`); returns its id. */
  async call(uri: string, options: { earlyMedia?: boolean } = {}): Promise<number> {
    const response = await this.commandOk(`call ${uri}${options.earlyMedia === true ? ' --early-media' : ''}`);
    const id = Number(response.fields.Id);
    if (!Number.isInteger(id)) throw new Error(`linphone call: no Id in ${response.raw}`);
    return id;
  }

  async answer(id?: number): Promise<LinphoneResponse> {
    return this.commandOk(id === undefined ? 'answer' : `answer ${id}`);
  }

  async terminate(id?: number): Promise<LinphoneResponse> {
    return this.commandOk(id === undefined ? 'terminate' : `terminate ${id}`);
  }

  /** Sends a DTMF digit on the current call (RFC 4733 by default). */
  async dtmf(digit: string): Promise<LinphoneResponse> {
    if (!/^[0-9A-D*#]$/.test(digit)) throw new Error(`not a DTMF digit: ${digit}`);
    return this.commandOk(`dtmf ${digit}`);
  }

  /** Plays a WAV file into a call (incall-player-start): the only way to send RTP without a sound card. */
  async playFile(path: string, id?: number): Promise<LinphoneResponse> {
    if (/\s/.test(path)) throw new Error('linphone: the file path must not contain spaces');
    return this.commandOk(id === undefined ? `incall-player-start ${path}` : `incall-player-start ${path} ${id}`);
  }

  /** call-status: State, From, Direction, Duration. */
  async callStatus(id?: number): Promise<LinphoneResponse> {
    return this.command(id === undefined ? 'call-status' : `call-status ${id}`);
  }

  // ----- events -----

  private schedulePoll(delayMs: number): void {
    if (!this.polling) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.pollOnce();
    }, delayMs);
  }

  private async pollOnce(): Promise<void> {
    if (!this.polling || !this.control.usable || !this.process.running) return;
    let more = false;
    try {
      const response = await this.command('pop-event', 5000);
      const match = /Event-type: (\S+)/.exec(response.body);
      if (match?.[1] !== undefined) {
        const text = response.body.slice(response.body.indexOf('Event-type:'));
        this.eventLog.push({ type: match[1], fields: parseFields(text), text, at: Date.now() });
      }
      more = Number(response.fields.Size ?? '0') > 0;
    } catch {
      return;
    }
    this.schedulePoll(more ? 0 : EVENT_POLL_MS);
  }

  events(): readonly LinphoneEvent[] {
    return this.eventLog.items();
  }

  /** Index of the next event: pass as `since` to wait only for later events. */
  mark(): number {
    return this.eventLog.mark();
  }

  waitForEvent(predicate: (event: LinphoneEvent) => boolean, timeoutMs: number, since = 0): Promise<LinphoneEvent> {
    return this.eventLog.waitFor(predicate, timeoutMs, {
      since,
      describe: (seen) => {
        const events = seen.map((event) => `${event.type} ${event.fields.Event ?? event.fields.Tone ?? ''}`.trim()).join(' | ');
        return `linphone: no matching event within ${timeoutMs} ms; seen: ${events || 'none'}\n${this.process.output(40)}`;
      },
    });
  }

  /**
   * The first call-state-changed event to `state` (e.g. "LinphoneCallStreamsRunning",
   * "LinphoneCallEnd", "LinphoneCallIncomingReceived"; also accepted without the
   * "LinphoneCall" prefix), for call `id` if given.
   */
  waitForCallState(state: string, timeoutMs: number, options: { id?: number; since?: number } = {}): Promise<LinphoneEvent> {
    const wanted = state.startsWith('LinphoneCall') ? state : `LinphoneCall${state}`;
    return this.waitForEvent(
      (event) =>
        event.type === 'call-state-changed' &&
        event.fields.Event === wanted &&
        (options.id === undefined || event.fields.Id === String(options.id)),
      timeoutMs,
      options.since ?? 0,
    );
  }

  // ----- SIP trace (from the log) -----

  /** SIP messages sent and received so far, from linphone's log (TLS decrypted). */
  sipMessages(): readonly LinphoneSipMessage[] {
    return this.trace.messages.items();
  }

  sipMark(): number {
    return this.trace.messages.mark();
  }

  waitForSipMessage(predicate: (message: LinphoneSipMessage) => boolean, timeoutMs: number, since = 0): Promise<LinphoneSipMessage> {
    return this.trace.messages.waitFor(predicate, timeoutMs, {
      since,
      describe: (seen) => {
        const messages = seen.map((m) => `${m.direction === 'sent' ? '>' : '<'} ${m.firstLine}`).join(' | ');
        return `linphone log: no matching SIP message within ${timeoutMs} ms; seen: ${messages || 'none'}`;
      },
    });
  }

  /** Log lines matching a pattern, e.g. /flags=\[/ for the TLS verification. */
  logLines(pattern: RegExp): readonly OutputLine[] {
    return this.process.lines().filter((line) => line.stream === 'stdout' && pattern.test(line.text));
  }

  /**
   * Stops linphone: `quit` (clean exit, ~0.1 s; registrations are not
   * removed first: call unregister() when it matters), SIGKILL after graceMs;
   * or SIGKILL at once with force.
   */
  async stop(options: { force?: boolean; graceMs?: number } = {}): Promise<void> {
    this.polling = false;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    if (options.force !== true && this.process.running && this.control.usable) {
      await this.control.command('quit', 2000).catch(() => undefined);
      await this.process.waitForExit(options.graceMs ?? 3000).catch(() => undefined);
    }
    this.control.close();
    await this.process.kill();
  }
}

export function startLinphone(options: LinphoneOptions = {}): Promise<Linphone> {
  return Linphone.start(options);
}

/** Fields of a Digest Authorization/WWW-Authenticate value: { username, realm, nonce, uri, response, algorithm, cnonce, nc, qop… }. */
export function parseDigest(value: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const text = value.replace(/^\s*Digest\s+/i, '');
  const pattern = /([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const name = match[1]?.toLowerCase();
    if (name !== undefined && !(name in fields)) fields[name] = match[2] ?? match[3] ?? '';
  }
  return fields;
}
