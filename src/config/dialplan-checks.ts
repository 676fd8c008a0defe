/**
 * The checks that need the whole file: what refers to what, and the rules
 * that stop a configuration from opening a door to toll fraud. Each issue
 * carries the key path it is about; load.ts adds file, line and column.
 *
 * Destinations (forwards, group fallbacks, inbound routes) are numbers and
 * are resolved the way a call will resolve them: an extension or a group
 * number, else an outside number that the numbering plan must classify, the
 * forwarding user's class must allow and an outbound route must carry. What
 * would fail at call time fails here first.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { DEFAULT_PERMISSION_CLASSES, definePermissionClass, mayCall, type PermissionClass } from '../rules/dial-permissions.js';
import { classifyDialString, createNumberingPlan, type NumberingPlan } from '../rules/numbering-plan.js';
import { compileOutboundRoutes, overlaps, selectOutboundRoute, type OutboundRoute } from '../rules/outbound-routing.js';
import { parseTimeCondition, type TimeCondition } from '../rules/time-conditions.js';
import type { RawConfig } from './schema.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CampaignConfig, InboundRouteConfig, MenuChoice, MenuConfig, MessageConfig, PromptSpec, RingGroupConfig, TrunkConfig } from './types.js';

export type KeyPath = readonly (string | number)[];

export interface DialplanIssue {
  readonly severity: 'error' | 'warning';
  readonly path: KeyPath;
  readonly message: string;
}

export interface CompiledDialplan {
  readonly permissionClasses: ReadonlyMap<string, PermissionClass>;
  readonly numberingPlan: NumberingPlan;
  readonly groups: readonly RingGroupConfig[];
  readonly messages: readonly MessageConfig[];
  readonly menus: readonly MenuConfig[];
  readonly timeConditions: ReadonlyMap<string, TimeCondition>;
  readonly inboundRoutes: readonly InboundRouteConfig[];
  readonly outboundRoutes: readonly OutboundRoute[];
  readonly trunks: readonly TrunkConfig[];
  readonly campaigns: readonly CampaignConfig[];
}

/**
 * `ranges.0.match` or `weekly.mon-fri[1]` (as the rule modules write them)
 * into key path segments.
 */
export function splitRelativePath(text: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const part of text.split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (match === null) {
      segments.push(part);
      continue;
    }
    const [, name = '', indexes = ''] = match;
    if (name !== '') segments.push(/^\d+$/.test(name) ? Number(name) : name);
    for (const index of indexes.matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments;
}

/** A rule module's `path: message` string, placed under `base`. */
function located(base: KeyPath, text: string, severity: DialplanIssue['severity'] = 'error'): DialplanIssue {
  const colon = text.indexOf(': ');
  if (colon === -1) return { severity, path: base, message: text };
  return { severity, path: [...base, ...splitRelativePath(text.slice(0, colon))], message: text.slice(colon + 2) };
}

function compileNumberingPlan(raw: RawConfig, issues: DialplanIssue[]): NumberingPlan | null {
  const np = raw.numbering_plan;
  const result = createNumberingPlan({
    region: np.region,
    ...(np.outside_line_prefix !== undefined ? { outsideLinePrefix: np.outside_line_prefix } : {}),
    ...(np.emergency_numbers !== undefined ? { emergencyNumbers: np.emergency_numbers } : {}),
    ...(np.ranges !== undefined ? { ranges: np.ranges } : {}),
  });
  if (result.ok) return result.plan;
  // nationalRegions defaults to [region]: its error repeats the region's, at a key the file cannot have.
  for (const e of result.errors) if (!e.startsWith('nationalRegions.')) issues.push(located(['numbering_plan'], e.replace(/^outsideLinePrefix/, 'outside_line_prefix').replace(/^emergencyNumbers/, 'emergency_numbers')));
  return null;
}

function compilePermissionClasses(raw: RawConfig, issues: DialplanIssue[]): Map<string, PermissionClass> {
  const classes = new Map<string, PermissionClass>();
  const definitions: Array<[string, readonly string[], boolean]> = [
    ...Object.entries(DEFAULT_PERMISSION_CLASSES).map(([name, categories]): [string, readonly string[], boolean] => [name, categories, false]),
    ...Object.entries(raw.permission_classes).map(([name, categories]): [string, readonly string[], boolean] => [name, categories, true]),
  ];
  for (const [name, categories, fromFile] of definitions) {
    const result = definePermissionClass(name, categories);
    if (!result.ok) {
      for (const e of result.errors) issues.push(located(['permission_classes', name], e));
      continue;
    }
    if (fromFile) for (const w of result.warnings) issues.push({ severity: 'warning', path: ['permission_classes', name], message: w });
    classes.set(name, result.permissionClass);
  }
  return classes;
}

function compileTimeConditions(raw: RawConfig, issues: DialplanIssue[]): Map<string, TimeCondition> {
  const conditions = new Map<string, TimeCondition>();
  for (const [name, spec] of Object.entries(raw.time_conditions)) {
    const result = parseTimeCondition(spec);
    if (result.ok) conditions.set(name, result.condition);
    else for (const e of result.errors) issues.push({ severity: 'error', path: ['time_conditions', name, ...splitRelativePath(e.path)], message: e.message });
  }
  return conditions;
}

function compileTrunks(raw: RawConfig, issues: DialplanIssue[]): TrunkConfig[] {
  const trunks: TrunkConfig[] = [];
  const seen = new Map<string, number>();
  raw.trunks.forEach((t, index) => {
    const first = seen.get(t.name);
    if (first !== undefined) {
      issues.push({ severity: 'error', path: ['trunks', index, 'name'], message: `duplicate trunk name "${t.name}" (first at trunks[${first}])` });
      return;
    }
    seen.set(t.name, index);
    // The schema refuses a trunk without both; this keeps the types honest.
    if (t.username === undefined || t.password === undefined) return;
    if (t.transport !== 'tls' && t.srtp === 'required') {
      issues.push({ severity: 'warning', path: ['trunks', index, 'srtp'], message: 'SRTP keys (SDES) would travel in clear over ' + t.transport.toUpperCase() + ': use transport tls' });
    }
    trunks.push({
      name: t.name,
      host: t.host.toLowerCase(),
      port: t.port ?? (t.transport === 'tls' ? 5061 : 5060),
      transport: t.transport,
      domain: (t.domain ?? t.host).toLowerCase(),
      username: t.username,
      authUsername: t.auth_username ?? t.username,
      password: t.password,
      register: t.register,
      registerExpires: t.register_expires,
      callerId: t.caller_id ?? null,
      inboundAddresses: t.inbound_addresses,
      srtp: t.srtp ?? (t.transport === 'tls' ? 'required' : 'off'),
      maxCalls: t.max_calls,
      callsPerSecond: t.calls_per_second,
    });
  });
  return trunks;
}

function compileOutbound(raw: RawConfig, trunkNames: ReadonlySet<string>, issues: DialplanIssue[]): OutboundRoute[] {
  raw.outbound_routes.forEach((r, index) => {
    if (!trunkNames.has(r.trunk)) issues.push({ severity: 'error', path: ['outbound_routes', index, 'trunk'], message: `no trunk named "${r.trunk}"` });
  });
  const result = compileOutboundRoutes(
    raw.outbound_routes.map((r) => ({
      name: r.name,
      match: r.match,
      trunk: r.trunk,
      ...(r.strip !== undefined ? { strip: r.strip } : {}),
      ...(r.prepend !== undefined ? { prepend: r.prepend } : {}),
      ...(r.send !== undefined ? { send: r.send } : {}),
    })),
  );
  if (!result.ok) {
    for (const e of result.errors) issues.push(located(['outbound_routes'], e));
    return [];
  }
  const indexOf = new Map(raw.outbound_routes.map((r, i) => [r.name, i]));
  for (const o of overlaps(result.routes)) {
    if (o.severity === 'info') continue;
    issues.push({ severity: o.severity, path: ['outbound_routes', indexOf.get(o.second) ?? 0, 'match'], message: o.message });
  }
  return [...result.routes];
}

interface Resolver {
  readonly plan: NumberingPlan;
  readonly extensions: ReadonlySet<string>;
  /** Group and message numbers: internal destinations that are not users. */
  readonly groups: ReadonlySet<string>;
  readonly routes: readonly OutboundRoute[];
}

/** Why a forward from a user of `permissionClass` to `number` would fail at call time, or null. */
function externalProblem(number: string, permissionClass: PermissionClass | undefined, r: Resolver): string | null {
  const internalNumbers = new Set([...r.extensions, ...r.groups]);
  const classification = classifyDialString(number, r.plan, { internalNumbers });
  if (!classification.ok) return `"${number}" is not a number: ${classification.reason}`;
  if (classification.category === 'internal') return null;
  if (classification.category === 'emergency') return `"${number}" is an emergency number: calls are not forwarded to one`;
  if (permissionClass === undefined) return null; // the unknown class is reported on its own
  const permission = mayCall(permissionClass, classification);
  if (!permission.allowed) return `"${number}" is refused to this user: ${permission.reason}`;
  const route = selectOutboundRoute(r.routes, classification);
  if (!route.ok) return `"${number}" cannot be called: ${route.reason}`;
  return null;
}

function internalProblem(number: string, r: Resolver, what: string): string | null {
  if (r.extensions.has(number) || r.groups.has(number)) return null;
  return `"${number}" is not an extension, a group, a message or a menu: ${what} lead to one of them`;
}

function checkUsers(raw: RawConfig, classes: ReadonlyMap<string, PermissionClass>, r: Resolver | null, issues: DialplanIssue[]): void {
  raw.users.forEach((user, index) => {
    const permissionClass = classes.get(user.permission);
    if (permissionClass === undefined) {
      issues.push({ severity: 'error', path: ['users', index, 'permission'], message: `no permission class "${user.permission}" (known: ${[...classes.keys()].join(', ')})` });
    }
    if (r === null) return;
    for (const key of ['always', 'busy', 'no_answer'] as const) {
      const target = user.forward[key];
      if (target === undefined) continue;
      if (target === user.extension) {
        issues.push({ severity: 'error', path: ['users', index, 'forward', key], message: 'forwards the user to itself' });
        continue;
      }
      const problem = externalProblem(target, permissionClass, r);
      if (problem !== null) issues.push({ severity: 'error', path: ['users', index, 'forward', key], message: problem });
    }
  });
  // A ring of unconditional forwards would bounce a call forever.
  const always = new Map(raw.users.flatMap((u) => (u.forward.always !== undefined ? [[u.extension, u.forward.always] as const] : [])));
  raw.users.forEach((user, index) => {
    const seen = new Set<string>([user.extension]);
    let next = always.get(user.extension);
    while (next !== undefined && !seen.has(next)) {
      seen.add(next);
      next = always.get(next);
    }
    if (next === user.extension) {
      issues.push({ severity: 'error', path: ['users', index, 'forward', 'always'], message: `unconditional forwards loop back to ${user.extension} (${[...seen].join(' → ')} → ${user.extension})` });
    }
  });
}

function compileGroups(raw: RawConfig, extensions: ReadonlySet<string>, issues: DialplanIssue[]): RingGroupConfig[] {
  const groups: RingGroupConfig[] = [];
  const numbers = new Map<string, number>();
  raw.groups.forEach((g, index) => {
    if (extensions.has(g.number)) {
      issues.push({ severity: 'error', path: ['groups', index, 'number'], message: `"${g.number}" is already a user's extension` });
    }
    const first = numbers.get(g.number);
    if (first !== undefined) issues.push({ severity: 'error', path: ['groups', index, 'number'], message: `duplicate group number "${g.number}" (first at groups[${first}])` });
    else numbers.set(g.number, index);
    const members = new Set<string>();
    g.members.forEach((m, j) => {
      if (!extensions.has(m)) issues.push({ severity: 'error', path: ['groups', index, 'members', j], message: `no user with extension "${m}"` });
      if (members.has(m)) issues.push({ severity: 'error', path: ['groups', index, 'members', j], message: `"${m}" is listed twice` });
      members.add(m);
    });
    groups.push({
      number: g.number,
      name: g.name,
      strategy: g.strategy,
      members: g.members,
      ringSeconds: g.ring_time,
      fallback: g.fallback ?? null,
    });
  });
  return groups;
}

type RawPrompt = RawConfig['messages'][number]['prompt'];

function compileCampaigns(raw: RawConfig, trunkNames: ReadonlySet<string>, internal: ReadonlySet<string>, agents: ReadonlySet<string>, baseDir: string, issues: DialplanIssue[]): CampaignConfig[] {
  const seen = new Map<string, number>();
  return raw.campaigns.map((c, index): CampaignConfig => {
    const at = (...rest: (string | number)[]): KeyPath => ['campaigns', index, ...rest];
    const first = seen.get(c.name);
    if (first !== undefined) issues.push({ severity: 'error', path: at('name'), message: `duplicate campaign name "${c.name}" (first at campaigns[${first}])` });
    else seen.set(c.name, index);
    if (!trunkNames.has(c.trunk)) issues.push({ severity: 'error', path: at('trunk'), message: `no trunk named "${c.trunk}"` });
    if (c.connect !== undefined && !internal.has(c.connect)) issues.push({ severity: 'error', path: at('connect'), message: `"${c.connect}" is no user, group, menu or message of this file` });
    if (c.progressive && (c.connect === undefined || !agents.has(c.connect))) {
      issues.push({ severity: 'error', path: at('progressive'), message: 'needs connect to be a user or a group: their members are the agents whose being free lets a call start' });
    }
    if (c.hours !== undefined) {
      const parsed = parseTimeCondition(c.hours);
      if (!parsed.ok) for (const e of parsed.errors) issues.push({ severity: 'error', path: [...at('hours'), ...splitRelativePath(e.path)], message: e.message });
    }
    const rule = (r: { delay: number; max_retries: number }) => ({ afterSeconds: r.delay, maxRetries: r.max_retries });
    return {
      name: c.name,
      purpose: c.purpose,
      trunk: c.trunk,
      callerId: c.caller_id ?? null,
      callsPerSecond: c.calls_per_second,
      maxCalls: c.max_calls,
      ringSeconds: c.ring_time,
      message: promptSpec(c.message, baseDir, at('message'), issues),
      optOutKey: c.opt_out_key === false ? null : c.opt_out_key,
      optOutConfirmation: promptSpec(c.opt_out_confirmation, baseDir, at('opt_out_confirmation'), issues),
      connect: c.connect ?? null,
      progressive: c.progressive,
      answeringMachine: c.answering_machine === false ? null : c.answering_machine,
      hours: c.hours ?? null,
      maxAttempts: c.max_attempts,
      attemptPeriodDays: c.attempt_period,
      quietDaysAfterRefusal: c.quiet_after_refusal,
      consentRequired: c.consent_required ?? null,
      retry: { busy: rule(c.retry.busy), 'no-answer': rule(c.retry.no_answer), failed: rule(c.retry.failed), congestion: rule(c.retry.congestion), unknown: rule(c.retry.unknown) },
    };
  });
}

function promptSpec(raw: RawPrompt, baseDir: string, path: KeyPath, issues: DialplanIssue[]): PromptSpec {
  const prompt: PromptSpec = 'text' in raw ? { kind: 'text', text: raw.text, voice: raw.voice ?? 'fr' } : { kind: 'file', path: resolve(baseDir, raw.file) };
  // Its format is checked when prompts are prepared (voix check, start, reload); a missing file is caught here already.
  if (prompt.kind === 'file' && !existsSync(prompt.path)) issues.push({ severity: 'error', path: [...path, 'file'], message: `no such file: ${prompt.path}` });
  return prompt;
}

function compileMenus(
  raw: RawConfig,
  taken: ReadonlyMap<string, string>,
  baseDir: string,
  classes: ReadonlyMap<string, PermissionClass>,
  conditions: ReadonlyMap<string, TimeCondition>,
  timeConditionsValid: boolean,
  r: Resolver | null,
  issues: DialplanIssue[],
): MenuConfig[] {
  const menus: MenuConfig[] = [];
  const numbers = new Map<string, number>();
  raw.menus.forEach((m, index) => {
    const at = (...rest: (string | number)[]): KeyPath => ['menus', index, ...rest];
    const owner = taken.get(m.number);
    if (owner !== undefined) issues.push({ severity: 'error', path: at('number'), message: `"${m.number}" is already ${owner}` });
    const first = numbers.get(m.number);
    if (first !== undefined) issues.push({ severity: 'error', path: at('number'), message: `duplicate menu number "${m.number}" (first at menus[${first}])` });
    else numbers.set(m.number, index);
    const permissionClass = classes.get(m.permission);
    if (permissionClass === undefined) issues.push({ severity: 'error', path: at('permission'), message: `no permission class "${m.permission}" (known: ${[...classes.keys()].join(', ')})` });
    if (m.time_condition !== undefined && timeConditionsValid && !conditions.has(m.time_condition)) {
      issues.push({ severity: 'error', path: at('time_condition'), message: `no time condition named "${m.time_condition}"` });
    }
    const checkDestination = (number: string, path: KeyPath): void => {
      if (r === null) return;
      if (number === m.number) {
        issues.push({ severity: 'error', path, message: 'leads back to this menu: use repeat' });
        return;
      }
      const problem = externalProblem(number, permissionClass, r);
      if (problem !== null) issues.push({ severity: 'error', path, message: problem.replace('to this user', `to this menu (class ${m.permission})`) });
    };
    const options = new Map<string, MenuChoice>();
    for (const [key, value] of Object.entries(m.options)) {
      if (value === 'repeat' || value === 'back' || value === 'hangup') options.set(key, { kind: value });
      else {
        checkDestination(value, at('options', key));
        options.set(key, { kind: 'destination', number: value });
      }
    }
    if (m.on_failure !== undefined) checkDestination(m.on_failure, at('on_failure'));
    if (options.size === 0 && !m.direct_dial) issues.push({ severity: 'warning', path: at('options'), message: 'no option and no direct dialling: the caller can only listen' });
    menus.push({
      number: m.number,
      name: m.name,
      greeting: promptSpec(m.greeting, baseDir, at('greeting'), issues),
      closedGreeting: m.closed_greeting === undefined ? null : promptSpec(m.closed_greeting, baseDir, at('closed_greeting'), issues),
      timeCondition: m.time_condition ?? null,
      options,
      directDial: m.direct_dial,
      timeoutSeconds: m.timeout,
      interDigitSeconds: m.inter_digit_timeout,
      maxRetries: m.max_retries,
      invalidPrompt: m.invalid_prompt === undefined ? null : promptSpec(m.invalid_prompt, baseDir, at('invalid_prompt'), issues),
      timeoutPrompt: m.timeout_prompt === undefined ? null : promptSpec(m.timeout_prompt, baseDir, at('timeout_prompt'), issues),
      onFailure: m.on_failure ?? null,
      permissionClass: m.permission,
    });
  });
  return menus;
}

function compileMessages(raw: RawConfig, taken: ReadonlyMap<string, string>, baseDir: string, issues: DialplanIssue[]): MessageConfig[] {
  const messages: MessageConfig[] = [];
  const numbers = new Map<string, number>();
  raw.messages.forEach((m, index) => {
    const owner = taken.get(m.number);
    if (owner !== undefined) issues.push({ severity: 'error', path: ['messages', index, 'number'], message: `"${m.number}" is already ${owner}` });
    const first = numbers.get(m.number);
    if (first !== undefined) issues.push({ severity: 'error', path: ['messages', index, 'number'], message: `duplicate message number "${m.number}" (first at messages[${first}])` });
    else numbers.set(m.number, index);
    const prompt = promptSpec(m.prompt, baseDir, ['messages', index, 'prompt'], issues);
    messages.push({ number: m.number, name: m.name, prompt, repeat: m.repeat });
  });
  return messages;
}

function checkGroupFallbacks(raw: RawConfig, r: Resolver, issues: DialplanIssue[]): void {
  raw.groups.forEach((g, index) => {
    if (g.fallback === undefined) return;
    if (g.fallback === g.number) {
      issues.push({ severity: 'error', path: ['groups', index, 'fallback'], message: 'falls back to the group itself' });
      return;
    }
    const problem = internalProblem(g.fallback, r, 'group fallbacks');
    if (problem !== null) issues.push({ severity: 'error', path: ['groups', index, 'fallback'], message: problem });
  });
}

function compileInbound(
  raw: RawConfig,
  r: Resolver,
  trunkNames: ReadonlySet<string>,
  conditions: ReadonlyMap<string, TimeCondition>,
  timeConditionsValid: boolean,
  issues: DialplanIssue[],
): InboundRouteConfig[] {
  const routes: InboundRouteConfig[] = [];
  const seen = new Map<string, number>();
  raw.inbound_routes.forEach((route, index) => {
    const phone = parsePhoneNumberFromString(route.did, r.plan.region as CountryCode);
    if (phone === undefined || !phone.isPossible()) {
      issues.push({ severity: 'error', path: ['inbound_routes', index, 'did'], message: `"${route.did}" is not a phone number of region ${r.plan.region} or in E.164 form` });
      return;
    }
    const did = phone.number;
    const key = `${did}\n${route.trunk ?? ''}`;
    const first = seen.get(key);
    if (first !== undefined) issues.push({ severity: 'error', path: ['inbound_routes', index, 'did'], message: `${did} is already routed by inbound_routes[${first}]` });
    else seen.set(key, index);
    if (route.trunk !== undefined && !trunkNames.has(route.trunk)) {
      issues.push({ severity: 'error', path: ['inbound_routes', index, 'trunk'], message: `no trunk named "${route.trunk}"` });
    }
    if (route.time_condition !== undefined && timeConditionsValid && !conditions.has(route.time_condition)) {
      issues.push({ severity: 'error', path: ['inbound_routes', index, 'time_condition'], message: `no time condition named "${route.time_condition}"` });
    }
    for (const key of ['destination', 'open', 'closed'] as const) {
      const target = route[key];
      if (target === undefined) continue;
      const problem = internalProblem(target, r, 'inbound routes');
      if (problem !== null) issues.push({ severity: 'error', path: ['inbound_routes', index, key], message: problem });
    }
    const open = route.destination ?? route.open;
    if (open === undefined) return;
    routes.push({ did, trunk: route.trunk ?? null, open, timeCondition: route.time_condition ?? null, closed: route.closed ?? null });
  });
  return routes;
}

/** Everything after the schema: compile the rules, check references. Null when an error was found. */
export function compileDialplan(raw: RawConfig, baseDir = '.'): { readonly dialplan: CompiledDialplan | null; readonly issues: readonly DialplanIssue[] } {
  const issues: DialplanIssue[] = [];
  const numberingPlan = compileNumberingPlan(raw, issues);
  const permissionClasses = compilePermissionClasses(raw, issues);
  const conditionErrorsBefore = issues.length;
  const timeConditions = compileTimeConditions(raw, issues);
  const timeConditionsValid = issues.length === conditionErrorsBefore;
  const trunks = compileTrunks(raw, issues);
  const trunkNames = new Set(raw.trunks.map((t) => t.name));
  const outboundRoutes = compileOutbound(raw, trunkNames, issues);
  const extensions = new Set(raw.users.map((u) => u.extension));
  const groups = compileGroups(raw, extensions, issues);
  const taken = new Map<string, string>([...raw.users.map((u): [string, string] => [u.extension, "a user's extension"]), ...groups.map((g): [string, string] => [g.number, 'a group number'])]);
  const messages = compileMessages(raw, taken, baseDir, issues);
  for (const m of messages) if (!taken.has(m.number)) taken.set(m.number, 'a message number');
  const internalOthers = new Set([...groups.map((g) => g.number), ...messages.map((m) => m.number), ...raw.menus.map((m) => m.number)]);
  const resolver: Resolver | null = numberingPlan === null ? null : { plan: numberingPlan, extensions, groups: internalOthers, routes: outboundRoutes };
  const menus = compileMenus(raw, taken, baseDir, permissionClasses, timeConditions, timeConditionsValid, resolver, issues);
  const campaigns = compileCampaigns(raw, trunkNames, new Set([...extensions, ...internalOthers]), new Set([...extensions, ...groups.map((g) => g.number)]), baseDir, issues);
  checkUsers(raw, permissionClasses, resolver, issues);
  let inboundRoutes: InboundRouteConfig[] = [];
  if (resolver !== null) {
    checkGroupFallbacks(raw, resolver, issues);
    inboundRoutes = compileInbound(raw, resolver, trunkNames, timeConditions, timeConditionsValid, issues);
  }
  if (numberingPlan === null || issues.some((i) => i.severity === 'error')) return { dialplan: null, issues };
  return { dialplan: { permissionClasses, numberingPlan, groups, messages, menus, timeConditions, inboundRoutes, outboundRoutes, trunks, campaigns }, issues };
}
