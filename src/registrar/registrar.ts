/**
 * The registrar (RFC 3261 §10.3) once the request is authenticated: checks
 * the address-of-record against the authenticated user, processes Contact
 * and expiry, keeps bindings in memory and writes them through to a store so
 * a restart forgets nothing.
 */
import type { Logger } from '../log/logger.js';
import { paramValue, parseBoundedInt, unquote } from '../sip/grammar.js';
import { parseContacts, type NameAddr } from '../sip/headers.js';
import type { SipRequest } from '../sip/message.js';
import type { Flow } from '../sip/transport/types.js';
import { formatUri, isSipUri, parseUri, sipUrisEqual, unescapeUriPart, type SipUri } from '../sip/uri.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Binding, BindingStore } from './binding.js';

export interface RegistrarSettings {
  readonly minExpires: number;
  readonly maxExpires: number;
  readonly defaultExpires: number;
}

export interface RegisteringUser {
  readonly extension: string;
  readonly maxContacts: number;
}

export interface RegisterResult {
  readonly status: number;
  readonly reason?: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

export interface RegistrarOptions {
  readonly clock: Clock;
  readonly store: BindingStore;
  readonly settings: RegistrarSettings;
  readonly logger: Logger;
  /** Whether a host names this server (domain, aliases, own addresses). */
  readonly isLocalHost: (host: string) => boolean;
  /** How often expired bindings are swept, in ms. */
  readonly sweepIntervalMs?: number;
}

const MAX_DELTA_SECONDS = 2 ** 32 - 1;

function result(status: number, reason?: string, headers: Array<readonly [string, string]> = []): RegisterResult {
  return reason === undefined ? { status, headers } : { status, reason, headers };
}

/** RFC 5626 §4.1: +sip.instance is a quoted `<urn:…>`. */
function instanceIdOf(contact: NameAddr): string | null {
  const v = paramValue(contact.params, '+sip.instance');
  return v === undefined || v === null ? null : unquote(v);
}

function regIdOf(contact: NameAddr): number | null {
  const v = paramValue(contact.params, 'reg-id');
  if (v === undefined || v === null) return null;
  return parseBoundedInt(v, MAX_DELTA_SECONDS);
}

function qOf(contact: NameAddr): number | null | 'invalid' {
  const v = paramValue(contact.params, 'q');
  if (v === undefined) return null;
  if (v === null || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(v)) return 'invalid';
  return Number(v);
}

export class Registrar {
  private readonly bindings = new Map<string, Binding[]>();
  private readonly contactUris = new WeakMap<Binding, SipUri | null>();
  private sweepTimer: TimerHandle | undefined;

  constructor(private readonly options: RegistrarOptions) {}

  /** Loads persisted bindings and starts sweeping expired ones. */
  start(): void {
    const now = this.options.clock.now();
    this.options.store.removeExpired(now);
    for (const b of this.options.store.loadAll()) {
      if (b.expiresAt > now) this.put(b);
    }
    this.scheduleSweep();
  }

  stop(): void {
    this.options.clock.clearTimer(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private scheduleSweep(): void {
    this.sweepTimer = this.options.clock.setTimer(this.options.sweepIntervalMs ?? 10_000, () => {
      this.sweep();
      this.scheduleSweep();
    });
  }

  /** Removes bindings whose time has come. */
  sweep(): void {
    const now = this.options.clock.now();
    for (const [aor, list] of this.bindings) {
      const alive = list.filter((b) => b.expiresAt > now);
      if (alive.length === list.length) continue;
      for (const b of list) {
        if (b.expiresAt <= now) this.options.logger.info('registration expired', { aor, contact: b.contact });
      }
      if (alive.length === 0) this.bindings.delete(aor);
      else this.bindings.set(aor, alive);
    }
    this.options.store.removeExpired(now);
  }

  /** Current bindings of an extension, highest q first, then most recently refreshed. */
  lookup(aor: string): Binding[] {
    const now = this.options.clock.now();
    return (this.bindings.get(aor) ?? [])
      .filter((b) => b.expiresAt > now)
      .sort((a, b) => (b.q ?? 1) - (a.q ?? 1) || b.updatedAt - a.updatedAt);
  }

  /** Every current binding, for operators. */
  all(): Binding[] {
    const now = this.options.clock.now();
    const out: Binding[] = [];
    for (const list of this.bindings.values()) for (const b of list) if (b.expiresAt > now) out.push(b);
    return out;
  }

  private put(b: Binding): void {
    const list = this.bindings.get(b.aor) ?? [];
    const i = list.findIndex((x) => x.contact === b.contact);
    if (i === -1) list.push(b);
    else list[i] = b;
    this.bindings.set(b.aor, list);
  }

  private drop(b: Binding): void {
    const list = this.bindings.get(b.aor);
    if (list === undefined) return;
    const rest = list.filter((x) => x !== b);
    if (rest.length === 0) this.bindings.delete(b.aor);
    else this.bindings.set(b.aor, rest);
    this.options.store.remove(b.aor, b.contact);
  }

  /** RFC 3261 §10.3 steps 5–8 for an authenticated REGISTER from `user`. */
  handleRegister(request: SipRequest, user: RegisteringUser, flow: Flow): RegisterResult {
    const { settings, clock, logger } = this.options;
    // Step 5: the To header names the AOR; a user may only register their own.
    const to = request.to.uri;
    if (!isSipUri(to) || to.user === null || unescapeUriPart(to.user) !== user.extension || !this.options.isLocalHost(to.host)) {
      return result(403, 'Forbidden: not your address-of-record');
    }
    const aor = user.extension;
    const contacts = parseContacts(request.headers.getAll('contact'));
    if (contacts === null) return result(400, 'Malformed Contact header');

    const expiresHeader = request.headers.get('expires');
    let headerExpires: number | null = null;
    if (expiresHeader !== undefined) {
      headerExpires = parseBoundedInt(expiresHeader, MAX_DELTA_SECONDS);
      if (headerExpires === null) return result(400, 'Malformed Expires header');
    }
    const now = clock.now();
    const existing = this.lookup(aor);

    if (contacts.wildcard) {
      // Step 6: "*" only with Expires 0; remove every binding this Call-ID/CSeq may remove.
      if (headerExpires !== 0) return result(400, 'Contact * requires Expires: 0');
      for (const b of existing) {
        if (b.callId === request.callId && request.cseq.seq <= b.cseq) continue;
        this.drop(b);
        logger.info('unregistered', { aor, contact: b.contact, callId: request.callId });
      }
      return this.ok(aor, now);
    }

    // Step 6: validate every contact and its expiry before changing anything.
    interface Update {
      readonly contact: NameAddr;
      readonly uri: SipUri;
      readonly expires: number;
      readonly q: number | null;
    }
    const updates: Update[] = [];
    for (const contact of contacts.contacts) {
      if (!isSipUri(contact.uri)) return result(400, 'Contact must be a SIP or SIPS URI');
      const param = paramValue(contact.params, 'expires');
      let expires: number | null;
      if (param !== undefined) {
        expires = param === null ? null : parseBoundedInt(param, MAX_DELTA_SECONDS);
        if (expires === null) return result(400, 'Malformed expires parameter');
      } else {
        expires = headerExpires ?? settings.defaultExpires;
      }
      // RFC 3261 §10.3 step 7: too short → 423 with Min-Expires; too long → shortened.
      if (expires > 0 && expires < settings.minExpires) {
        return result(423, 'Interval Too Brief', [['Min-Expires', String(settings.minExpires)]]);
      }
      const q = qOf(contact);
      if (q === 'invalid') return result(400, 'Malformed q parameter');
      updates.push({ contact, uri: contact.uri, expires: Math.min(expires, settings.maxExpires), q });
    }

    // Step 7: CSeq ordering per binding; an out-of-order update fails the whole request.
    const matches = updates.map((u) => this.findBinding(existing, u.contact, u.uri));
    for (const m of matches) {
      if (m !== undefined && m.callId === request.callId && request.cseq.seq <= m.cseq) {
        return result(400, 'Invalid CSeq number (out of order)');
      }
    }

    const added = updates.filter((u, i) => u.expires > 0 && matches[i] === undefined).length;
    const removed = updates.filter((u, i) => u.expires === 0 && matches[i] !== undefined).length;
    if (updates.filter((u) => u.expires > 0).length > user.maxContacts) {
      return result(403, `Forbidden: at most ${user.maxContacts} contacts`);
    }
    // Make room by dropping the bindings closest to expiry (a phone that rebooted gets in).
    let surplus = existing.length - removed + added - user.maxContacts;
    const untouched = existing.filter((b) => !matches.includes(b)).sort((a, b) => a.expiresAt - b.expiresAt);
    for (const b of untouched) {
      if (surplus <= 0) break;
      this.drop(b);
      logger.info('registration replaced', { aor, contact: b.contact, reason: 'max_contacts' });
      surplus--;
    }

    const userAgent = request.headers.get('user-agent') ?? null;
    const path = request.headers.getList('path') ?? [];
    updates.forEach((u, i) => {
      const previous = matches[i];
      if (u.expires === 0) {
        if (previous !== undefined) {
          this.drop(previous);
          logger.info('unregistered', { aor, contact: previous.contact, callId: request.callId });
        }
        return;
      }
      if (previous !== undefined && previous.contact !== formatUri(u.uri)) this.drop(previous);
      const binding: Binding = {
        aor,
        contact: formatUri(u.uri),
        instanceId: instanceIdOf(u.contact),
        regId: regIdOf(u.contact),
        callId: request.callId,
        cseq: request.cseq.seq,
        expiresAt: now + u.expires * 1000,
        q: u.q,
        transport: flow.transport,
        sourceAddress: flow.remoteAddress,
        sourcePort: flow.remotePort,
        connectionId: flow.connectionId,
        path,
        userAgent,
        updatedAt: now,
      };
      this.put(binding);
      this.options.store.save(binding);
      const fields = {
        aor,
        contact: binding.contact,
        transport: flow.transport,
        source: `${flow.remoteAddress}:${flow.remotePort}`,
        expires: u.expires,
        callId: request.callId,
      };
      if (previous === undefined) logger.info('registered', fields);
      else if (previous.transport !== flow.transport || previous.sourceAddress !== flow.remoteAddress || previous.sourcePort !== flow.remotePort) {
        // The phone moved (new address, NAT mapping or transport): worth an operator's attention.
        logger.info('registration refreshed', { ...fields, previousSource: `${previous.sourceAddress}:${previous.sourcePort}`, previousTransport: previous.transport });
      } else {
        // A plain refresh, every few minutes per phone: at info it would fill the log (Asterisk says nothing either).
        logger.debug('registration refreshed', fields);
      }
    });
    return this.ok(aor, now, path);
  }

  private findBinding(existing: readonly Binding[], contact: NameAddr, uri: SipUri): Binding | undefined {
    const instanceId = instanceIdOf(contact);
    const regId = regIdOf(contact);
    if (instanceId !== null) {
      // RFC 5626 §6: with an instance id, the binding is (instance, reg-id), whatever the URI.
      return existing.find((b) => b.instanceId === instanceId && b.regId === regId);
    }
    return existing.find((b) => {
      if (b.instanceId !== null) return false;
      const stored = this.contactUri(b);
      return stored !== null && sipUrisEqual(stored, uri);
    });
  }

  /** A binding's contact as a SIP URI, parsed once per binding rather than at each REGISTER that looks at it. */
  private contactUri(b: Binding): SipUri | null {
    let uri = this.contactUris.get(b);
    if (uri === undefined) {
      const parsed = parseUri(b.contact);
      uri = parsed !== null && isSipUri(parsed) ? parsed : null;
      this.contactUris.set(b, uri);
    }
    return uri;
  }

  /** Step 8: 200 listing every current binding with its remaining time. */
  private ok(aor: string, now: number, path: readonly string[] = []): RegisterResult {
    const headers: Array<readonly [string, string]> = [];
    for (const b of this.lookup(aor)) {
      let value = `<${b.contact}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`;
      if (b.instanceId !== null) value += `;+sip.instance="${b.instanceId}"`;
      if (b.regId !== null) value += `;reg-id=${b.regId}`;
      headers.push(['Contact', value]);
    }
    // RFC 3327 §5.3: a registrar supporting Path echoes it in the 200.
    for (const p of path) headers.push(['Path', p]);
    headers.push(['Date', new Date(now).toUTCString()]);
    return result(200, undefined, headers);
  }
}
