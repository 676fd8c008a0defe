/**
 * Where a call goes: the company's rules (users, ring groups, forwarding,
 * do-not-disturb, permission classes, outbound routes, inbound routes and
 * time conditions) turned into a hunt the call core drives.
 *
 * Toll fraud is decided here, so the order is fixed: the caller is already
 * authenticated (a user by digest, a trunk by its address); the dialled
 * string is classified whole by the numbering plan; the caller's class must
 * allow its category (emergency numbers always are); an outbound route must
 * carry it; the trunk must have a free channel. Every refusal is a security
 * log line. A forward to the outside is a call by the forwarding user, under
 * that user's class, and a trunk's caller only ever reaches internal
 * numbers, so voix never relays one trunk to another.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { Announcement, Attempt, AttemptOutcome, CallTarget, Hunt, HuntEnd, HuntStep, MenuEntry, Party } from '../calls/call-target.js';
import type { LegSignalling } from '../calls/call-media.js';
import type { RingGroupConfig, TrunkConfig, UserConfig, VoixConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Binding } from '../registrar/binding.js';
import { mayCall } from '../rules/dial-permissions.js';
import { classifyDialString, type DialClassification } from '../rules/numbering-plan.js';
import { selectOutboundRoute } from '../rules/outbound-routing.js';
import { evaluate, describeDecision } from '../rules/time-conditions.js';
import type { SecurityLog } from '../security/security-log.js';
import { isSipUri, parseUri, sipUri, cloneSipUri, type SipUri } from '../sip/uri.js';
import type { TransportProtocol } from '../sip/transport/types.js';
import type { Clock } from '../util/clock.js';

/** Forwards and fallbacks one call may follow before voix calls it a loop. */
const MAX_DEPTH = 8;

export type CallerIdentity =
  | { readonly kind: 'user'; readonly user: UserConfig; readonly name: string }
  | { readonly kind: 'trunk'; readonly trunk: TrunkConfig; readonly number: string; readonly name: string | null };

export interface CallRouterOptions {
  readonly config: () => VoixConfig;
  readonly registrar: { lookup(aor: string): Binding[] };
  readonly clock: Clock;
  readonly securityLog: SecurityLog;
  readonly logger: Logger;
  /** Calls in progress through a trunk, for its max_calls. */
  readonly trunkCalls: (trunk: string) => number;
  /** The wall clock of time conditions; clock.now() by default. */
  readonly calendarNow?: () => number;
}

export interface RouteRequest {
  readonly caller: CallerIdentity;
  /** The user part of the Request-URI as received (not unescaped), or null when it has none. */
  readonly dialled: string | null;
  readonly callId: string;
  readonly source: { readonly address: string; readonly port: number; readonly transport: TransportProtocol };
}

export type RouteResult =
  | { readonly ok: true; readonly callee: Party; readonly hunt: Hunt; readonly trunk: string | null }
  | { readonly ok: false; readonly status: number; readonly reason?: string; readonly why: string };

type Continuation = (outcome: AttemptOutcome, status: number) => Step;
type AttemptStep = { readonly attempt: Attempt; readonly onFail: Continuation };
type Step = AttemptStep | HuntEnd | Announcement | MenuEntry;

function end(status: number, why: string, reason?: string): HuntEnd {
  return reason === undefined ? { status, why } : { status, why, reason };
}

/** The end of a hunt when the last attempt failed without anything to fall back to. */
function endFor(outcome: AttemptOutcome, status: number): HuntEnd {
  if (outcome === 'busy') return end(486, 'busy');
  if (outcome === 'no-answer') return end(480, 'no answer', 'No Answer');
  if (outcome === 'unavailable') return end(480, 'unavailable');
  return end(status, 'failed');
}

/** A Hunt over steps that carry their own continuation. */
class StepHunt implements Hunt {
  private onFail: Continuation | null = null;

  constructor(private readonly firstStep: () => Step) {}

  first(): HuntStep {
    return this.take(this.firstStep());
  }

  next(outcome: AttemptOutcome, status: number): HuntStep {
    const onFail = this.onFail;
    if (onFail === null) return endFor(outcome, status);
    return this.take(onFail(outcome, status));
  }

  private take(step: Step): HuntStep {
    if ('status' in step || 'kind' in step) {
      this.onFail = null;
      return step;
    }
    this.onFail = step.onFail;
    return step.attempt;
  }
}

export class CallRouter {
  /** A reload brings a new configuration object: the old one's entry goes with it. */
  private readonly internalNumbersOf = new WeakMap<VoixConfig, ReadonlySet<string>>();

  constructor(private readonly options: CallRouterOptions) {}

  /** An INVITE from an authenticated user or from a trunk, to a dialled string. */
  route(request: RouteRequest): RouteResult {
    const config = this.options.config();
    const { caller, dialled } = request;
    if (dialled === null) return { ok: false, status: 404, why: 'no number in the Request-URI' };
    const classification = this.classify(config, dialled);
    if (!classification.ok) {
      this.refuse(request, 'malformed number', classification.reason);
      return { ok: false, status: 404, why: `malformed number: ${classification.reason}` };
    }
    if (classification.category === 'internal') {
      const callee = this.internalParty(config, dialled);
      return { ok: true, callee, trunk: null, hunt: new StepHunt(() => this.internal(config, request, dialled, 0)) };
    }
    if (caller.kind === 'trunk') {
      // A trunk's caller reaching another trunk through voix is the classic relay fraud.
      this.refuse(request, 'calls from a trunk only reach internal numbers', '', classification.category);
      return { ok: false, status: 404, why: 'calls from a trunk only reach internal numbers' };
    }
    const external = this.external(config, request, caller.user, dialled, classification);
    if ('status' in external) return { ok: false, status: external.status, why: external.why, ...(external.reason !== undefined ? { reason: external.reason } : {}) };
    return {
      ok: true,
      callee: { extension: classification.e164 ?? classification.national ?? dialled, name: classification.display },
      trunk: external.attempt.targets[0]?.trunk ?? null,
      hunt: new StepHunt(() => external),
    };
  }

  /**
   * A call from a trunk to one of the company's numbers (RFC 3261: the
   * Request-URI, or the To header when the provider calls the registered
   * account itself). Inbound routes pick the destination, by time condition.
   */
  routeInbound(request: RouteRequest & { readonly caller: Extract<CallerIdentity, { kind: 'trunk' }> }, toUser: string | null): RouteResult {
    const config = this.options.config();
    const trunk = request.caller.trunk;
    const called = request.dialled === null || request.dialled === trunk.username ? toUser : request.dialled;
    const did = called === null ? null : this.toE164(config, called);
    const route =
      did === null
        ? undefined
        : (config.inboundRoutes.find((r) => r.did === did && r.trunk === trunk.name) ?? config.inboundRoutes.find((r) => r.did === did && r.trunk === null));
    if (route === undefined) {
      this.options.logger.info('inbound call to a number without route', { callId: request.callId, trunk: trunk.name, called });
      return { ok: false, status: 404, why: `no inbound route for ${called ?? 'an empty number'}` };
    }
    let destination = route.open;
    if (route.timeCondition !== null && route.closed !== null) {
      const condition = config.timeConditions.get(route.timeCondition);
      if (condition !== undefined) {
        const decision = evaluate(condition, new Date(this.options.calendarNow?.() ?? this.options.clock.now()));
        if (!decision.open) destination = route.closed;
        this.options.logger.info('time condition', { callId: request.callId, condition: route.timeCondition, decision: describeDecision(decision), destination });
      }
    }
    const callee = this.internalParty(config, destination);
    return { ok: true, callee, trunk: trunk.name, hunt: new StepHunt(() => this.internal(config, request, destination, 0)) };
  }

  private classify(config: VoixConfig, dialled: string): DialClassification {
    const internalNumbers = this.internalNumbers(config);
    return classifyDialString(dialled, config.numberingPlan, { internalNumbers });
  }

  /** Numbers a caller reaches inside the company: extensions, groups, messages, menus. Built once per configuration, not per INVITE. */
  internalNumbers(config: VoixConfig = this.options.config()): ReadonlySet<string> {
    let numbers = this.internalNumbersOf.get(config);
    if (numbers === undefined) {
      numbers = this.collectInternalNumbers(config);
      this.internalNumbersOf.set(config, numbers);
    }
    return numbers;
  }

  private collectInternalNumbers(config: VoixConfig): Set<string> {
    return new Set<string>([
      ...config.users.map((u) => u.extension),
      ...config.groups.map((g) => g.number),
      ...config.messages.map((m) => m.number),
      ...config.menus.map((m) => m.number),
    ]);
  }

  /** Whether a time condition says open now (menus' greetings); an unknown one counts as open. */
  isOpen(conditionName: string): boolean {
    const condition = this.options.config().timeConditions.get(conditionName);
    if (condition === undefined) return true;
    return evaluate(condition, new Date(this.options.calendarNow?.() ?? this.options.clock.now())).open;
  }

  /**
   * A choice made in a voice menu: `number` as if the menu dialled it.
   * Inside numbers go as usual; an outside number needs the menu's
   * permission class, never the caller's (a trunk's caller must not get out
   * through a menu either, unless the menu's class allows it), and leaves
   * with the company's identity.
   */
  routeFromMenu(request: RouteRequest, number: string, permissionClass: string): RouteResult {
    const config = this.options.config();
    const classification = this.classify(config, number);
    if (!classification.ok) return { ok: false, status: 404, why: `menu destination ${number}: ${classification.reason}` };
    if (classification.category === 'internal') {
      return { ok: true, callee: this.internalParty(config, number), trunk: null, hunt: new StepHunt(() => this.internal(config, request, number, 0)) };
    }
    const menuCaller: UserConfig = {
      extension: 'menu',
      displayName: null,
      credentials: { ha1Md5: null, ha1Sha256: null },
      transports: [],
      maxContacts: 0,
      srtp: 'optional',
      permissionClass,
      forward: { always: null, busy: null, noAnswer: null, noAnswerSeconds: 0 },
      dnd: false,
      callerId: { name: null, number: null },
    };
    const external = this.external(config, { ...request, dialled: number }, menuCaller, number, classification);
    if ('status' in external) return { ok: false, status: external.status, why: external.why };
    return { ok: true, callee: { extension: classification.e164 ?? number, name: classification.display }, trunk: external.attempt.targets[0]?.trunk ?? null, hunt: new StepHunt(() => external) };
  }

  private toE164(config: VoixConfig, number: string): string | null {
    if (/^\+[0-9]+$/.test(number)) return number;
    const phone = parsePhoneNumberFromString(number, config.numberingPlan.region as CountryCode);
    return phone?.number ?? null;
  }

  private internalParty(config: VoixConfig, number: string): Party {
    const user = config.users.find((u) => u.extension === number);
    if (user !== undefined) return { extension: user.extension, name: user.displayName ?? user.extension };
    const named = config.groups.find((g) => g.number === number) ?? config.messages.find((m) => m.number === number) ?? config.menus.find((m) => m.number === number);
    return { extension: number, name: named?.name ?? number };
  }

  private refuse(request: RouteRequest, reason: string, detail: string, category?: string): void {
    const { caller, source } = request;
    this.options.securityLog.record('call_refused', {
      src: source.address,
      port: source.port,
      transport: source.transport,
      user: caller.kind === 'user' ? caller.user.extension : `trunk:${caller.trunk.name}`,
      method: 'INVITE',
      callId: request.callId,
      reason: detail === '' ? reason : `${reason}: ${detail}`,
      ...(request.dialled !== null ? { dialled: request.dialled } : {}),
      ...(category !== undefined ? { category } : {}),
    });
  }

  // ---------------------------------------------------------------------------
  // Internal destinations: users and groups.

  /** An extension or group number (checked by the config to exist), as reached by `request`. */
  private internal(config: VoixConfig, request: RouteRequest, number: string, depth: number): Step {
    if (depth > MAX_DEPTH) return end(482, 'forwarding loop', 'Loop Detected');
    const user = config.users.find((u) => u.extension === number);
    if (user !== undefined) return this.user(config, request, user, depth);
    const group = config.groups.find((g) => g.number === number);
    if (group !== undefined) return this.group(config, request, group, depth);
    const message = config.messages.find((m) => m.number === number);
    if (message !== undefined) return { kind: 'announcement', label: `message ${message.number}`, promptId: message.number, repeat: message.repeat };
    const menu = config.menus.find((m) => m.number === number);
    if (menu !== undefined) return { kind: 'menu', label: `menu ${menu.number}`, menu: menu.number };
    return end(404, `no extension, group, message or menu ${number}`);
  }

  /** A forward or fallback number: internal, or outside as a call by `forwarder`. */
  private forwardTo(config: VoixConfig, request: RouteRequest, number: string, forwarder: UserConfig | null, depth: number, why: string): Step {
    this.options.logger.info('call forwarded', { callId: request.callId, to: number, why, by: forwarder?.extension ?? null });
    const classification = this.classify(config, number);
    if (classification.ok && classification.category === 'internal') return this.internal(config, request, number, depth + 1);
    if (forwarder === null || !classification.ok) return end(404, `forward target ${number} is not internal`);
    return this.external(config, { ...request, dialled: number }, forwarder, number, classification);
  }

  private user(config: VoixConfig, request: RouteRequest, user: UserConfig, depth: number): Step {
    const { forward } = user;
    if (forward.always !== null) return this.forwardTo(config, request, forward.always, user, depth, `unconditional forward of ${user.extension}`);
    const onBusy = (): Step =>
      forward.busy !== null ? this.forwardTo(config, request, forward.busy, user, depth, `busy forward of ${user.extension}`) : end(486, `${user.extension} busy`);
    if (user.dnd) {
      this.options.logger.info('do not disturb', { callId: request.callId, callee: user.extension });
      return onBusy();
    }
    const attempt: Attempt = {
      label: `user ${user.extension}`,
      targets: this.userTargets(config, request, user),
      ringSeconds: forward.noAnswer !== null ? forward.noAnswerSeconds : null,
    };
    return {
      attempt,
      onFail: (outcome, status) => {
        if (outcome === 'busy') return onBusy();
        if ((outcome === 'no-answer' || outcome === 'unavailable') && forward.noAnswer !== null) {
          return this.forwardTo(config, request, forward.noAnswer, user, depth, `no-answer forward of ${user.extension}`);
        }
        return endFor(outcome, status);
      },
    };
  }

  private group(config: VoixConfig, request: RouteRequest, group: RingGroupConfig, depth: number): Step {
    // Members in do-not-disturb are left out; their personal forwards do not apply to group calls.
    const members = group.members.flatMap((m) => {
      const u = config.users.find((user) => user.extension === m);
      return u !== undefined && !u.dnd ? [u] : [];
    });
    const afterGroup = (outcome: AttemptOutcome, status: number): Step =>
      group.fallback !== null ? this.forwardTo(config, request, group.fallback, null, depth, `fallback of group ${group.number}`) : endFor(outcome, status);
    if (members.length === 0) return afterGroup('unavailable', 480);
    if (group.strategy === 'simultaneous') {
      return {
        attempt: {
          label: `group ${group.number}`,
          targets: members.flatMap((u) => this.userTargets(config, request, u)),
          ringSeconds: group.ringSeconds,
        },
        onFail: afterGroup,
      };
    }
    const memberStep = (index: number, busySoFar: boolean): Step => {
      const member = members[index];
      if (member === undefined) return afterGroup(busySoFar ? 'busy' : 'no-answer', busySoFar ? 486 : 480);
      return {
        attempt: { label: `group ${group.number}, member ${member.extension}`, targets: this.userTargets(config, request, member), ringSeconds: group.ringSeconds },
        onFail: (outcome) => memberStep(index + 1, busySoFar && outcome === 'busy'),
      };
    };
    return memberStep(0, true);
  }

  private userTargets(config: VoixConfig, request: RouteRequest, user: UserConfig): CallTarget[] {
    const domain = config.server.domain;
    const from = this.callerIdentity(request, domain);
    return this.options.registrar.lookup(user.extension).map((binding): CallTarget => {
      const parsed = parseUri(binding.contact);
      const requestUri: SipUri =
        parsed !== null && isSipUri(parsed) ? { ...cloneSipUri(parsed), headers: null } : sipUri({ user: user.extension, host: binding.sourceAddress, port: binding.sourcePort });
      return {
        label: binding.contact,
        requestUri,
        destination: { transport: binding.transport, address: binding.sourceAddress, port: binding.sourcePort, connectionId: binding.connectionId },
        route: binding.path,
        signalling: this.signalling(config, binding.transport, binding.sourceAddress, user.srtp),
        from,
        to: { displayName: null, uri: sipUri({ user: user.extension, host: domain }) },
        contactUser: from.uri.user ?? 'voix',
        extraHeaders: [],
        credentials: null,
        trunk: null,
      };
    });
  }

  /** From of voix's INVITE to a phone: the internal caller, or the outside number a trunk presented. */
  private callerIdentity(request: RouteRequest, domain: string): CallTarget['from'] {
    const { caller } = request;
    if (caller.kind === 'user') return { displayName: caller.name, uri: sipUri({ user: caller.user.extension, host: domain }) };
    return { displayName: caller.name, uri: sipUri({ user: caller.number, host: domain }) };
  }

  private signalling(config: VoixConfig, transport: TransportProtocol, sourceAddress: string | null, srtpPolicy: LegSignalling['srtpPolicy']): LegSignalling {
    return { transport, sourceAddress, srtpPolicy, cryptoAllowed: transport === 'tls' || config.security.sdesOverPlaintext };
  }

  /**
   * voix's INVITE to `number` through `trunk`, presenting `callerId.number`
   * (else the trunk's caller id, else its account); the dialer's calls use it
   * too, once their campaign's permission to use the trunk is settled.
   */
  trunkTarget(config: VoixConfig, trunk: TrunkConfig, number: string, callerId: { readonly number: string | null; readonly name: string | null }): CallTarget {
    const presented = callerId.number ?? trunk.callerId ?? trunk.username;
    const uriTo = sipUri({ user: number, host: trunk.domain });
    return {
      label: `trunk ${trunk.name} ${number}`,
      requestUri: uriTo,
      destination: { transport: trunk.transport, address: trunk.host, port: trunk.port },
      route: [],
      signalling: this.signalling(config, trunk.transport, null, trunk.srtp),
      from: { displayName: callerId.name, uri: sipUri({ user: presented, host: trunk.domain }) },
      to: { displayName: null, uri: uriTo },
      contactUser: trunk.username,
      // RFC 3325: the identity voix asserts to a provider that trusts it.
      extraHeaders: [['P-Asserted-Identity', `<sip:${presented}@${trunk.domain}>`]],
      credentials: { username: trunk.authUsername, password: trunk.password },
      trunk: trunk.name,
    };
  }

  // ---------------------------------------------------------------------------
  // Outside numbers: permission, route, trunk.

  private external(config: VoixConfig, request: RouteRequest, user: UserConfig, dialled: string, classification: Extract<DialClassification, { ok: true }>): AttemptStep | HuntEnd {
    const permissionClass = config.permissionClasses.get(user.permissionClass);
    const permission = permissionClass === undefined ? { allowed: false as const, reason: `unknown class "${user.permissionClass}"` } : mayCall(permissionClass, classification);
    if (!permission.allowed) {
      this.refuse(request, 'not allowed', permission.reason, classification.category);
      // A number in no range of the plan is, for this caller, a number that does not exist.
      return classification.category === 'unknown' ? end(404, permission.reason) : end(403, permission.reason, 'Forbidden');
    }
    const selection = selectOutboundRoute(config.outboundRoutes, classification);
    if (!selection.ok) {
      this.refuse(request, 'no route', selection.reason, classification.category);
      return end(404, selection.reason, 'No Route');
    }
    const trunk = config.trunks.find((t) => t.name === selection.trunk);
    if (trunk === undefined) return end(404, `no trunk ${selection.trunk}`, 'No Route');
    if (this.options.trunkCalls(trunk.name) >= trunk.maxCalls) {
      this.refuse(request, 'trunk full', `${trunk.name} has ${trunk.maxCalls} calls`, classification.category);
      return end(503, `trunk ${trunk.name} is at its call limit`, 'Trunk Busy');
    }
    this.options.logger.info('outbound call', { callId: request.callId, caller: user.extension, number: selection.number, route: selection.route, trunk: trunk.name, category: classification.category });
    const target = this.trunkTarget(config, trunk, selection.number, { number: user.callerId.number, name: user.callerId.name ?? user.displayName });
    return {
      attempt: { label: `trunk ${trunk.name}`, targets: [target], ringSeconds: null },
      onFail: (outcome, status) => (status === 401 || status === 407 ? end(503, `trunk ${trunk.name} refused voix's credentials`, 'Trunk Authentication Failed') : endFor(outcome, status)),
    };
  }
}
