/**
 * The configuration as the rest of voix sees it, once loaded and checked:
 * camelCase, defaults applied, paths absolute, host names lower-case, and no
 * clear password (only digest HA1 values, RFC 7616 §3.4.2).
 */
import type { PermissionClass } from '../rules/dial-permissions.js';
import type { NumberingPlan } from '../rules/numbering-plan.js';
import type { OutboundRoute } from '../rules/outbound-routing.js';
import type { TimeCondition, TimeConditionSpec } from '../rules/time-conditions.js';

export type Transport = 'udp' | 'tcp' | 'tls';
export type DigestAlgorithm = 'SHA-256' | 'MD5';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** SRTP towards a user: required (488 without usable SRTP), optional, or off. */
export type SrtpPolicy = 'required' | 'optional' | 'off';

export interface ListenEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface TlsCertificateFiles {
  /** Absolute path of the PEM certificate (chain). */
  readonly certificateFile: string;
  /** Absolute path of the PEM private key. */
  readonly keyFile: string;
}

export interface TlsListenEndpoint extends ListenEndpoint {
  /** null: voix uses its own local CA and server certificate under `<dataDir>/tls`. */
  readonly certificate: TlsCertificateFiles | null;
}

/** A transport set to `false` in the file is null here. */
export interface ListenConfig {
  readonly udp: ListenEndpoint | null;
  readonly tcp: ListenEndpoint | null;
  readonly tls: TlsListenEndpoint | null;
}

export interface ServerConfig {
  /** SIP domain, lower-case. */
  readonly domain: string;
  /** Digest realm: `realm` from the file, else the domain. */
  readonly realm: string;
  /** Other hosts accepted as ours in Request-URIs, lower-case, without the domain. */
  readonly aliases: readonly string[];
  /** Address advertised in Via/Contact when behind NAT, or null. */
  readonly publicAddress: string | null;
  /** Absolute path. */
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** Seconds SIGTERM leaves for ending calls, writing their records and stopping. */
  readonly shutdownGraceSeconds: number;
  readonly listen: ListenConfig;
}

export interface RegistrarConfig {
  /** Seconds; a shorter Expires is answered 423 Interval Too Brief (RFC 3261 §10.3 step 7). */
  readonly minExpires: number;
  readonly maxExpires: number;
  /** Seconds, used when a REGISTER carries no expiry. */
  readonly defaultExpires: number;
}

export interface AuthConfig {
  /** Offered digest algorithms, preferred first (RFC 8760). */
  readonly algorithms: readonly DigestAlgorithm[];
  readonly nonceLifetimeSeconds: number;
  /**
   * User-Agent prefixes (case-insensitive) of phones that fail on any SHA-256
   * challenge: they are challenged with MD5 alone when MD5 is offered.
   */
  readonly md5OnlyUserAgents: readonly string[];
}

/**
 * HA1 = H(username ":" realm ":" password), lower-case hex, with the
 * extension as username (RFC 7616 §3.4.2). Derived from `password` when the
 * file gives one; otherwise copied from `ha1_md5` / `ha1_sha256` (either may
 * be null then, but not one that auth.algorithms needs alone).
 */
export interface UserCredentials {
  readonly ha1Md5: string | null;
  readonly ha1Sha256: string | null;
}

export interface UserConfig {
  /** Digits, also the digest username. */
  readonly extension: string;
  readonly displayName: string | null;
  readonly credentials: UserCredentials;
  readonly transports: readonly Transport[];
  /** Simultaneous registered contacts (devices). */
  readonly maxContacts: number;
  /** Default: required for a TLS-only account, optional otherwise. */
  readonly srtp: SrtpPolicy;
  /** Name of a permission class (permissionClasses); default "internal". */
  readonly permissionClass: string;
  readonly forward: ForwardingConfig;
  /** Do not disturb: calls to this user get busy (or its busy forwarding). */
  readonly dnd: boolean;
  /** How this user is presented on calls that leave through a trunk; null: the trunk's default. */
  readonly callerId: CallerIdConfig;
}

/**
 * A destination as written in the file: digits with an optional leading '+'.
 * Resolved at call time like a number the user dialled: an extension or a
 * group number first, otherwise an outside number (numbering plan,
 * permission class, outbound routes).
 */
export type DestinationNumber = string;

export interface ForwardingConfig {
  readonly always: DestinationNumber | null;
  readonly busy: DestinationNumber | null;
  readonly noAnswer: DestinationNumber | null;
  /** Seconds of ringing before the no-answer forwarding applies. */
  readonly noAnswerSeconds: number;
}

export interface CallerIdConfig {
  readonly name: string | null;
  /** E.164, presented to the trunk. */
  readonly number: string | null;
}

export type RingStrategy = 'simultaneous' | 'in_order';

export interface RingGroupConfig {
  /** Dialled like an extension; unique among extensions and groups. */
  readonly number: string;
  readonly name: string;
  readonly strategy: RingStrategy;
  /** Extensions, in order. */
  readonly members: readonly string[];
  /** Seconds: the whole group (simultaneous) or each member (in order). */
  readonly ringSeconds: number;
  /** Where the call goes when nobody answers; null: the caller hears the failure. */
  readonly fallback: DestinationNumber | null;
}

/** A prompt as configured: spoken text, or an audio file (absolute path). */
export type PromptSpec = { readonly kind: 'text'; readonly text: string; readonly voice: string } | { readonly kind: 'file'; readonly path: string };

/** An announcement reached by its number: voix answers, plays it `repeat` times, hangs up. */
export interface MessageConfig {
  readonly number: string;
  readonly name: string;
  readonly prompt: PromptSpec;
  readonly repeat: number;
}

/** What a key does in a voice menu: go to a destination number, or one of the menu's own actions. */
export type MenuChoice =
  | { readonly kind: 'destination'; readonly number: DestinationNumber }
  | { readonly kind: 'repeat' }
  | { readonly kind: 'back' }
  | { readonly kind: 'hangup' };

/** A DTMF key: 0-9, *, #, A-D. */
export type MenuKey = string;

/** A voice menu (IVR), reached by its number like an extension. */
export interface MenuConfig {
  readonly number: string;
  readonly name: string;
  /** Played when the caller arrives, and again on repeat or after a mistake. */
  readonly greeting: PromptSpec;
  /** With a time condition: the greeting while closed (the open one is `greeting`). */
  readonly closedGreeting: PromptSpec | null;
  readonly timeCondition: string | null;
  readonly options: ReadonlyMap<MenuKey, MenuChoice>;
  /** Whether a caller may type an extension (or group, message, menu number) during the menu. */
  readonly directDial: boolean;
  /** Seconds to wait for a key once the greeting has played. */
  readonly timeoutSeconds: number;
  /** Seconds between the digits of a number dialled directly. */
  readonly interDigitSeconds: number;
  /** Mistakes (no key, unknown key) tolerated before `onFailure`. */
  readonly maxRetries: number;
  readonly invalidPrompt: PromptSpec | null;
  readonly timeoutPrompt: PromptSpec | null;
  /** Where the caller goes after maxRetries mistakes; null: voix hangs up. */
  readonly onFailure: DestinationNumber | null;
  /** Permission class of the outside numbers the menu leads to. */
  readonly permissionClass: string;
}

export interface InboundRouteConfig {
  /** E.164 (normalised from the file with the numbering plan's region). */
  readonly did: string;
  /** Only calls from this trunk; null: any trunk. */
  readonly trunk: string | null;
  /** Without a time condition: the only destination. With one: the destination while open. */
  readonly open: DestinationNumber;
  /** Name of a time condition, or null. */
  readonly timeCondition: string | null;
  /** The destination while closed (with a time condition). */
  readonly closed: DestinationNumber | null;
}

export interface TrunkConfig {
  /** Unique; used by outbound and inbound routes. */
  readonly name: string;
  /** The provider's SIP server (host name or IP). */
  readonly host: string;
  readonly port: number;
  readonly transport: Transport;
  /** SIP domain of the account (From, To, REGISTER); default host. */
  readonly domain: string;
  /** The account's user part (From, To, REGISTER AOR). */
  readonly username: string;
  /** Digest username, when it differs from username. */
  readonly authUsername: string;
  /** Kept in memory only: the provider's realm and algorithm are learnt from its challenges. */
  readonly password: string;
  readonly register: boolean;
  /** Seconds asked in REGISTER. */
  readonly registerExpires: number;
  /** E.164 number presented on outgoing calls when the caller has none of its own; null: the account's username. */
  readonly callerId: string | null;
  /** Addresses (IP or CIDR) whose INVITEs are calls from this trunk, besides the resolved host. */
  readonly inboundAddresses: readonly string[];
  /** SRTP on calls through this trunk: default required over TLS, off otherwise. */
  readonly srtp: SrtpPolicy;
  /** Simultaneous calls through this trunk (both directions). */
  readonly maxCalls: number;
  /** New calls per second the dialer may start through this trunk, all campaigns together. */
  readonly callsPerSecond: number;
}

/** How an attempt's outcome is retried (src/dialer/retry-policy.ts). */
export interface CampaignRetryRule {
  readonly afterSeconds: number;
  readonly maxRetries: number;
}

/**
 * An outbound campaign (src/dialer): who may be called and when, how fast,
 * and what they hear. Its contacts, attempts and state are in the database.
 */
export interface CampaignConfig {
  readonly name: string;
  /** prospecting needs each contact's recorded consent (loi n° 2025-594); customer (a contract in force) does not. */
  readonly purpose: 'prospecting' | 'customer';
  readonly trunk: string;
  /** E.164 number presented; null: the trunk's. */
  readonly callerId: string | null;
  readonly callsPerSecond: number;
  readonly maxCalls: number;
  readonly ringSeconds: number;
  /** Played on answer; a text may name contact fields in braces ({prenom}, {nom}, any column). */
  readonly message: PromptSpec;
  /** The key that puts the number on the do-not-call list; null: none. */
  readonly optOutKey: string | null;
  readonly optOutConfirmation: PromptSpec;
  /** After the message, a person is put through to this internal number (a menu, a user, a group); null: voix hangs up. */
  readonly connect: string | null;
  /**
   * Progressive mode: a call is placed only while an agent of `connect` (a
   * user, or a group's members) is registered and free for it.
   */
  readonly progressive: boolean;
  /** Answering-machine detection: what voix does with a machine (hang up, or leave the message); null: no detection. */
  readonly answeringMachine: 'hangup' | 'message' | null;
  /** Calling hours in the contact's time zone; null: the legal ones (Monday–Friday 10–13 h and 14–20 h, not on public holidays). */
  readonly hours: Omit<TimeConditionSpec, 'timezone'> | null;
  readonly maxAttempts: number;
  readonly attemptPeriodDays: number;
  readonly quietDaysAfterRefusal: number;
  /** null: as the purpose says (required for prospecting). */
  readonly consentRequired: boolean | null;
  /** Retry rules by outcome (busy, no-answer, failed, congestion, unknown); the others never retry. */
  readonly retry: Readonly<Record<'busy' | 'no-answer' | 'failed' | 'congestion' | 'unknown', CampaignRetryRule>>;
}

export interface MediaConfig {
  /** Bind address of the RTP sockets. */
  readonly address: string;
  /** Address written in SDP, or null to use the server's advertised address. */
  readonly publicAddress: string | null;
  readonly portMin: number;
  readonly portMax: number;
  /** Media worker threads; 0 means one per CPU core. */
  readonly workers: number;
}

export interface CallsConfig {
  readonly ringTimeoutSeconds: number;
  /** RFC 4028 session interval voix asks for. */
  readonly sessionExpiresSeconds: number;
  /** RFC 4028 Min-SE: a smaller Session-Expires gets 422. */
  readonly minSeSeconds: number;
}

export interface BanConfig {
  /** Failed authentications from one source within the window that trigger a ban. */
  readonly maxFailures: number;
  readonly windowSeconds: number;
  readonly durationSeconds: number;
}

export interface SecurityConfig {
  readonly ban: BanConfig;
  /** Send SDES keys (a=crypto) over UDP/TCP signalling too. Off by default: keys would travel in clear. */
  readonly sdesOverPlaintext: boolean;
}

export interface VoixConfig {
  readonly server: ServerConfig;
  readonly registrar: RegistrarConfig;
  readonly auth: AuthConfig;
  readonly users: readonly UserConfig[];
  readonly media: MediaConfig;
  readonly calls: CallsConfig;
  readonly security: SecurityConfig;
  readonly admin: AdminConfig;
  readonly overload: OverloadConfig;
  readonly limits: LimitsConfig;
  readonly groups: readonly RingGroupConfig[];
  readonly messages: readonly MessageConfig[];
  readonly menus: readonly MenuConfig[];
  /** Class name to the categories it may call (dial-permissions.ts); emergency numbers are always allowed. */
  readonly permissionClasses: ReadonlyMap<string, PermissionClass>;
  readonly numberingPlan: NumberingPlan;
  readonly timeConditions: ReadonlyMap<string, TimeCondition>;
  readonly inboundRoutes: readonly InboundRouteConfig[];
  readonly outboundRoutes: readonly OutboundRoute[];
  readonly trunks: readonly TrunkConfig[];
  readonly campaigns: readonly CampaignConfig[];
}

/** When new out-of-dialog requests get 503 with Retry-After (core/overload-guard.ts); 0 turns a criterion off. */
export interface OverloadConfig {
  readonly maxEventLoopLagMs: number;
  readonly maxTransactionsInProgress: number;
  readonly maxRequestsPerSecond: number;
  readonly retryAfterSeconds: number;
}

/** Limits on SIP messages and TCP/TLS connections. */
export interface LimitsConfig {
  /** Bytes, header section and body together. */
  readonly maxMessageSize: number;
  readonly maxHeaders: number;
  readonly maxConnectionsPerAddress: number;
  /** Per transport (TCP, TLS). */
  readonly maxConnections: number;
  readonly idleTimeoutSeconds: number;
  readonly firstMessageTimeoutSeconds: number;
}

/** The administration HTTP API (read-only JSON), or null when disabled. */
export interface AdminConfig {
  readonly listen: ListenEndpoint | null;
}

/** One problem found in a config file; `line` and `column` are 1-based, or 0 when the file could not be read at all. */
export interface ConfigIssue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Key path such as `users[2].password`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: VoixConfig; readonly warnings: readonly ConfigIssue[] }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[]; readonly warnings: readonly ConfigIssue[] };
