/**
 * A real baresip 1.0 (Debian's package) as a phone under test control.
 *
 * What we learned about baresip 1.0 (with libre 1.1), by running it:
 *
 * - Headless: no sound card is needed with `ausine` as the source (a sine at
 *   the frequency given as device: `ausine,440`; it only runs at 48 kHz
 *   stereo, hence `ausrc_srate 48000` and `ausrc_channels 2`, else every
 *   call closes with "Operation not supported") or `aufile,<wav>`, and
 *   `aubridge` as the player (a device name with no matching aubridge
 *   source just drops the audio). `sndfile` (an audio filter) records what
 *   is sent and heard as WAV files into `snd_path`. srtp and dtls_srtp are
 *   loaded for `;mediaenc=…` accounts. Not loaded: stdio (needs a
 *   terminal), alsa, and the NAT modules (stun/turn/ice).
 * - Control: `ctrl_tcp` (see baresip-control.ts). Its commands are the menu
 *   module's long commands: uanew, uadel, reginfo, dial, accept, hangup,
 *   listcalls, quit… There is no `uareg` in 1.0.
 * - The account is created with `uanew` once ctrl_tcp is connected, not read
 *   from the `accounts` file, so that REGISTERING/REGISTER_OK are not missed.
 * - Unregistering: `uadel <aor>` sends REGISTER with the Contact's
 *   `;expires=0` (no Expires header, no credentials: it answers a new 401
 *   like the first one) and emits UNREGISTERING; 1.0 has no
 *   event for the answer, so unregister() reads it from the SIP trace (`-s`).
 *   Quitting (SIGTERM or `quit`) also unregisters every registered UA and
 *   waits for the answers: about 2 s with a live registrar, ~25 s with a
 *   dead one. stop() allows that (5 s, then SIGKILL); the cleanup after a
 *   test gives it 300 ms: call unregister() in the test when it matters.
 * - TLS trust: `sip_cafile <file>` is the only TLS key of 1.0 besides
 *   `sip_certificate` (its own certificate); there is no
 *   `sip_verify_server`. The CA file is loaded, but libre 1.1 does not
 *   verify the server's certificate: baresip 1.0 registered over TLS to a
 *   server whose certificate was signed by another CA. So baresip cannot
 *   prove that voix's certificate is valid: check it with the raw-sip
 *   helper (Node TLS with the CA) or `openssl s_client -verify_return_error`.
 * - Local address: `net_interface <address>` (an address works, an
 *   interface name like `lo` does not) and `sip_listen <address>:<port>`.
 *   UDP messages then leave from that address. TCP and TLS connections do
 *   not bind it: their source address is the kernel's choice (127.0.0.1
 *   towards 127.0.0.1) even though Via and Contact carry the configured one.
 *   To test bans of another source over TCP, use SIPp's localAddress (-i,
 *   which SIPp binds for UDP and TCP alike) or raw-sip's (TLS too).
 * - Digest: MD5 only, qop=auth or none. A 401 carrying any challenge with
 *   `algorithm=SHA-256` fails registration with REGISTER_FAIL "Function not
 *   implemented", even when an MD5 challenge is offered next to it (in
 *   either order): a server must offer MD5 alone to baresip 1.0.
 * - `sip_listen` with port P: UDP and TCP listen on P, TLS on P+1.
 * - Calls: `dial <uri>`, `accept`, `hangup` (ctrl_tcp). `hangup` on a call
 *   still ringing rejects it with **486** (reason "Rejected"); on an established call it
 *   sends BYE. There is no hold command in 1.0's menu (use Linphone's
 *   call-pause/call-resume for hold). Events: CALL_INCOMING, CALL_RINGING,
 *   CALL_ESTABLISHED, CALL_CLOSED (param: the reason, e.g. "486 Busy Here",
 *   "Connection reset by peer" for a BYE received).
 * - sndfile names its files `dump-<YYYY-MM-DD-hh-mm-ss>-enc.wav` (what the
 *   phone sent) and `…-dec.wav` (what it heard), 16-bit at the codec's rate,
 *   and completes them when the call's audio stops (see recordingsIn()).
 * - In another network namespace (`netns`): the process runs under
 *   `ip netns exec`, its ports are not checked from here (a fresh namespace
 *   has them all free), and ctrl_tcp must listen on an address the test can
 *   reach (`controlAddress`, e.g. the namespace's end of a management veth).
 */
import { randomInt } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './cleanup.js';
import { BaresipControl, type BaresipEvent, type BaresipResponse } from './baresip-control.js';
import { BaresipTrace, traceHeader, traceStatus, type TracedSipMessage } from './baresip-trace.js';
import { getFreePort, getFreePortRange } from './ports.js';
import { startProcess, type ManagedProcess } from './process.js';

export type { BaresipEvent, BaresipResponse } from './baresip-control.js';
export type { TracedSipMessage } from './baresip-trace.js';
export { traceHeader, traceStatus } from './baresip-trace.js';

export type SipTransport = 'udp' | 'tcp' | 'tls';

export interface BaresipAccount {
  /** User part of the AOR, and the digest username unless authUser is given. */
  readonly user: string;
  readonly password: string;
  /** Host part of the AOR: "host:port" (or a name, with `outbound` to reach it, since there is no DNS). */
  readonly domain: string;
  readonly transport: SipTransport;
  /** Registration interval in seconds (REGISTER Expires asked for); baresip's default is 3600. */
  readonly regint?: number;
  /** "host:port" of the proxy to send everything to (account parameter outbound), with the same transport. */
  readonly outbound?: string;
  readonly authUser?: string;
  readonly displayName?: string;
  /** More account parameters, appended as is, e.g. ";mediaenc=srtp-mand;answermode=auto". */
  readonly extra?: string;
}

export interface BaresipOptions {
  /** Created (and registered, unless regint is 0) with uanew right after start. */
  readonly account?: BaresipAccount;
  /** sip_cafile: CA to trust for SIP over TLS (loaded but not enforced by baresip 1.0, see above). */
  readonly caFile?: string;
  /** Address to use for SIP (e.g. 127.0.0.5 to appear from another source over UDP); default 127.0.0.1. */
  readonly localAddress?: string;
  /** audio_source; default "ausine,440" (a 440 Hz tone). "aufile,/path/file.wav" plays a file. */
  readonly audioSource?: string;
  /** If set, the sndfile filter records sent and received audio as WAV files into this directory. */
  readonly recordDir?: string;
  /** Print the SIP trace (-s) that sipMessages()/unregister() read; default true. */
  readonly sipTrace?: boolean;
  /** Lines appended to the generated config file. */
  readonly extraConfig?: readonly string[];
  /** Run baresip in this network namespace (`ip netns exec`; see netns.ts). */
  readonly netns?: string;
  /** Address ctrl_tcp listens on and the harness connects to; default 127.0.0.1 (needed with netns). */
  readonly controlAddress?: string;
  readonly label?: string;
  /** Bound on start-up (ready line, ctrl_tcp connection); default 10 000 ms. */
  readonly startTimeoutMs?: number;
}

export interface RegistrationOutcome {
  readonly ok: boolean;
  /** REGISTER_OK/REGISTER_FAIL's param: "200 OK", "403 Forbidden", "Connection refused", "Function not implemented"… */
  readonly status: string;
  readonly event: BaresipEvent;
}

const READY_LINE = 'baresip is ready.';
const BIND_FAILURE = /Address already in use|failed to listen/;

function accountLine(account: BaresipAccount): string {
  for (const [name, value] of [
    ['user', account.user],
    ['password', account.password],
    ['domain', account.domain],
  ] as const) {
    if (/[\s;<>"]/.test(value)) throw new Error(`baresip account ${name} must not contain spaces, ';', '<', '>' or '"'`);
  }
  const uri = `sip:${account.user}@${account.domain};transport=${account.transport}`;
  const name = account.displayName === undefined ? '' : `"${account.displayName}" `;
  let line = `${name}<${uri}>;auth_pass=${account.password}`;
  if (account.authUser !== undefined) line += `;auth_user=${account.authUser}`;
  if (account.regint !== undefined) line += `;regint=${account.regint}`;
  if (account.outbound !== undefined) line += `;outbound="sip:${account.outbound};transport=${account.transport}"`;
  if (account.extra !== undefined) line += account.extra;
  return line;
}

export function aorOf(account: BaresipAccount): string {
  return `sip:${account.user}@${account.domain}`;
}

function configFile(options: {
  localAddress: string;
  sipPort: number;
  controlAddress: string;
  ctrlPort: number;
  rtpPort: number;
  caFile: string | undefined;
  audioSource: string;
  recordDir: string | undefined;
  extra: readonly string[];
}): string {
  const lines = [
    '# Written by test/e2e/harness/baresip.ts for one test run.',
    'poll_method\t\tepoll',
    `sip_listen\t\t${options.localAddress}:${options.sipPort}`,
    ...(options.caFile === undefined ? [] : [`sip_cafile\t\t${options.caFile}`]),
    `net_interface\t\t${options.localAddress}`,
    'call_local_timeout\t120',
    'call_max_calls\t\t4',
    `audio_source\t\t${options.audioSource}`,
    // ausine only produces 48 kHz stereo; baresip resamples to the codec's rate and channels.
    ...(options.audioSource.startsWith('ausine') ? ['ausrc_srate\t\t48000', 'ausrc_channels\t\t2'] : []),
    'audio_player\t\taubridge,harness-player',
    'audio_alert\t\taubridge,harness-alert',
    `rtp_ports\t\t${options.rtpPort}-${options.rtpPort + 7}`,
    'rtp_tos\t\t\t0',
    'module_path\t\t/usr/lib/baresip/modules',
    'module\t\t\tg711.so',
    'module\t\t\tausine.so',
    'module\t\t\taufile.so',
    'module\t\t\taubridge.so',
    ...(options.recordDir === undefined ? [] : ['module\t\t\tsndfile.so', `snd_path\t\t${options.recordDir}`]),
    'module\t\t\tsrtp.so',
    'module\t\t\tdtls_srtp.so',
    'module_tmp\t\tuuid.so',
    'module_tmp\t\taccount.so',
    'module_app\t\tmenu.so',
    'module_app\t\tcontact.so',
    'module_app\t\tctrl_tcp.so',
    `ctrl_tcp_listen\t\t${options.controlAddress}:${options.ctrlPort}`,
    ...options.extra,
  ];
  return `${lines.join('\n')}\n`;
}

export class Baresip {
  private constructor(
    readonly process: ManagedProcess,
    private readonly control: BaresipControl,
    private readonly trace: BaresipTrace,
    /** The config directory (-f). */
    readonly dir: string,
    readonly localAddress: string,
    /** UDP/TCP port baresip listens on for SIP (TLS: sipPort + 1). */
    readonly sipPort: number,
    readonly ctrlPort: number,
    private currentAor: string | null,
  ) {}

  static async start(options: BaresipOptions = {}): Promise<Baresip> {
    const dir = await makeTempDir('baresip');
    const localAddress = options.localAddress ?? '127.0.0.1';
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    let lastError: unknown = null;
    // A port picked free may be taken before baresip binds it: try again with others.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const controlAddress = options.controlAddress ?? '127.0.0.1';
      // In a namespace of its own, every port is free: pick distinct ones without binding here.
      const inNetns = options.netns !== undefined;
      const sipPort = inNetns ? 20_000 + 2 * randomInt(0, 2000) : await getFreePortRange(2, localAddress);
      const ctrlPort = inNetns ? 25_000 + randomInt(0, 1000) : await getFreePort(controlAddress);
      const rtpPort = inNetns ? 26_000 + 8 * randomInt(0, 700) : await getFreePortRange(8, localAddress);
      await writeFile(
        join(dir, 'config'),
        configFile({
          localAddress,
          sipPort,
          controlAddress,
          ctrlPort,
          rtpPort,
          caFile: options.caFile,
          audioSource: options.audioSource ?? 'ausine,440',
          recordDir: options.recordDir,
          extra: options.extraConfig ?? [],
        }),
      );
      await writeFile(join(dir, 'accounts'), '# The account is created with the ctrl_tcp command uanew (see baresip.ts).\n');
      await writeFile(join(dir, 'contacts'), '');
      const baresipArgs = ['-f', dir, ...(options.sipTrace === false ? [] : ['-s'])];
      const child = startProcess({
        command: options.netns === undefined ? 'baresip' : 'ip',
        args: options.netns === undefined ? baresipArgs : ['netns', 'exec', options.netns, 'baresip', ...baresipArgs],
        cwd: dir,
        label: options.label ?? `baresip ${options.account === undefined ? '' : options.account.user}`.trim(),
        // After a test nobody waits for its unregistration (up to ~30 s against a registrar that is gone).
        cleanupGraceMs: 300,
      });
      const trace = new BaresipTrace(child);
      try {
        await child.waitForLine((text) => text.includes(READY_LINE), timeoutMs);
        if (child.lines().some((line) => BIND_FAILURE.test(line.text))) {
          throw new Error(`baresip could not bind its ports:\n${child.output(40)}`);
        }
        const control = await BaresipControl.connect(controlAddress, ctrlPort, timeoutMs);
        const phone = new Baresip(child, control, trace, dir, localAddress, sipPort, ctrlPort, null);
        if (options.account !== undefined) await phone.addAccount(options.account);
        return phone;
      } catch (error) {
        lastError = error;
        await child.kill();
        if (!child.lines().some((line) => BIND_FAILURE.test(line.text))) break;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /** The AOR of the account created last, e.g. sip:1001@127.0.0.1:5060. */
  get aor(): string | null {
    return this.currentAor;
  }

  /** Creates a UA with uanew; it starts registering at once (unless regint=0). Returns its AOR. */
  async addAccount(account: BaresipAccount): Promise<string> {
    const response = await this.command('uanew', accountLine(account));
    if (!response.ok) throw new Error(`baresip uanew failed: ${response.data}`);
    this.currentAor = aorOf(account);
    return this.currentAor;
  }

  /** Runs a ctrl_tcp command; resolves with baresip's answer (ok false included). */
  command(name: string, params?: string, timeoutMs = 5000): Promise<BaresipResponse> {
    return this.control.command(name, params, timeoutMs);
  }

  /**
   * Presses a key in the current call: baresip's `sndcode` sends it as
   * RFC 4733 telephone-event packets (start, updates, end three times) when
   * the call negotiated telephone-event, as baresip 1.0 does by default.
   */
  async pressKey(key: string): Promise<void> {
    const response = await this.command('sndcode', key);
    if (!response.ok) throw new Error(`baresip sndcode ${key}: ${response.data}`);
  }

  events(): readonly BaresipEvent[] {
    return this.control.events.items();
  }

  /** Index of the next event: pass as `since` to wait only for later events. */
  mark(): number {
    return this.control.events.mark();
  }

  /** First event from `since` (default: every event since start) matching predicate; rejects after timeoutMs. */
  waitForEvent(predicate: (event: BaresipEvent) => boolean, timeoutMs: number, since = 0): Promise<BaresipEvent> {
    return this.control.events.waitFor(predicate, timeoutMs, {
      since,
      describe: (seen) => {
        const events = seen.map((event) => `${event.type}${event.param === undefined ? '' : ` (${event.param})`}`).join(', ');
        return `baresip: no matching event within ${timeoutMs} ms; events seen: ${events || 'none'}\nbaresip output:\n${this.process.output(60)}`;
      },
    });
  }

  /** The first REGISTER_OK or REGISTER_FAIL from `since` on. */
  async waitForRegistration(timeoutMs: number, since = 0): Promise<RegistrationOutcome> {
    const event = await this.waitForEvent((e) => e.type === 'REGISTER_OK' || e.type === 'REGISTER_FAIL', timeoutMs, since);
    return { ok: event.type === 'REGISTER_OK', status: event.param ?? '', event };
  }

  /** SIP messages sent and received so far, as baresip traced them (needs sipTrace). */
  sipMessages(): readonly TracedSipMessage[] {
    return this.trace.messages.items();
  }

  sipMark(): number {
    return this.trace.messages.mark();
  }

  waitForSipMessage(predicate: (message: TracedSipMessage) => boolean, timeoutMs: number, since = 0): Promise<TracedSipMessage> {
    return this.trace.messages.waitFor(predicate, timeoutMs, {
      since,
      describe: (seen) =>
        `baresip trace: no matching SIP message within ${timeoutMs} ms; seen: ${seen.map((message) => message.firstLine).join(' | ') || 'none'}`,
    });
  }

  /**
   * Unregisters and deletes the UA (uadel): REGISTER with Contact
   * ;expires=0. Resolves with the final status line answered to that
   * REGISTER (from the SIP trace), or null if baresip sent none (it was not
   * registered) or the trace is off.
   */
  async unregister(timeoutMs = 10_000): Promise<{ status: string | null }> {
    const aor = this.currentAor;
    if (aor === null) throw new Error('baresip: no account to unregister');
    const registered = [...this.events()].reverse().find((e) => e.accountaor === aor && e.type.startsWith('REGISTER'));
    const sipSince = this.sipMark();
    const eventSince = this.mark();
    const response = await this.command('uadel', aor);
    if (!response.ok) throw new Error(`baresip uadel failed: ${response.data}`);
    this.currentAor = null;
    if (registered?.type !== 'REGISTER_OK') return { status: null };
    await this.waitForEvent((e) => e.type === 'UNREGISTERING', timeoutMs, eventSince);
    const request = await this.waitForSipMessage(
      (m) => m.firstLine.startsWith('REGISTER ') && /expires=0\b/i.test(m.text),
      timeoutMs,
      sipSince,
    ).catch(() => null);
    if (request === null) return { status: null };
    const callId = traceHeader(request, 'Call-ID');
    const answer = await this.waitForSipMessage(
      (m) => {
        const status = traceStatus(m);
        return status !== null && status >= 200 && status !== 401 && status !== 407 && traceHeader(m, 'Call-ID') === callId;
      },
      timeoutMs,
      sipSince,
    );
    return { status: answer.firstLine.replace(/^SIP\/2\.0 /, '') };
  }

  /** Stops baresip: SIGTERM (it unregisters what is registered), SIGKILL after graceMs; or SIGKILL at once with force. */
  async stop(options: { force?: boolean; graceMs?: number } = {}): Promise<void> {
    this.control.close();
    if (options.force === true) await this.process.kill();
    else await this.process.stop({ graceMs: options.graceMs ?? 5000 });
  }
}

export function startBaresip(options: BaresipOptions = {}): Promise<Baresip> {
  return Baresip.start(options);
}

export interface BaresipRecording {
  /** What the phone sent (its microphone, after the filters): `…-enc.wav`. */
  readonly sent: string;
  /** What the phone heard (decoded from the network): `…-dec.wav`. */
  readonly heard: string;
}

/**
 * The recordings the sndfile module wrote into a `recordDir`, one per call's
 * audio stream, oldest first (by the time in their names).
 */
export async function recordingsIn(dir: string): Promise<BaresipRecording[]> {
  const names = (await readdir(dir)).filter((name) => /^dump-.*-(enc|dec)\.wav$/.test(name)).sort();
  const stems = [...new Set(names.map((name) => name.replace(/-(enc|dec)\.wav$/, '')))];
  return stems
    .filter((stem) => names.includes(`${stem}-enc.wav`) && names.includes(`${stem}-dec.wav`))
    .map((stem) => ({ sent: join(dir, `${stem}-enc.wav`), heard: join(dir, `${stem}-dec.wav`) }));
}
