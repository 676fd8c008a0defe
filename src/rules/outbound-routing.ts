// Where an allowed outside call goes: an ordered list of routes, first match
// wins. Each route's pattern (dial-pattern.ts) is written over one form of
// the number: a pattern starting with '+' sees the E.164 form
// (`+33[67]XXXXXXXX`), any other pattern sees the national form as the plan
// gives it (`0[67]XXXXXXXX`, `3XXX`, `112`). International numbers only have
// the E.164 form.
//
// What is sent to the trunk is the E.164 form by default (what SIP trunks in
// France expect in the Request-URI, RFC 3966 global numbers), or the national
// form when the number has no E.164 one (short and emergency numbers) or the
// route asks for it. `strip` then `prepend` apply to that, Asterisk's order.
//
// Routing decides nothing about permission: mayCall (dial-permissions.ts)
// runs first, and a number that no route matches is refused, never sent to
// some default trunk.

import {
  dialPatternCovers,
  dialPatternIntersection,
  dialPatternsEquivalent,
  matchesDialPattern,
  parseDialPattern,
  translateDialPattern,
  type DialPattern,
} from './dial-pattern.js';
import type { DialClassification } from './numbering-plan.js';

export interface OutboundRouteConfig {
  readonly name: string;
  /** Whole-string dial pattern, over the E.164 form if it starts with '+', else the national form. */
  readonly match: string;
  readonly trunk: string;
  /** Characters removed from the front of the number sent, before `prepend`. */
  readonly strip?: number;
  readonly prepend?: string;
  /** Form sent to the trunk. Default `e164` (national when the number has no E.164 form). */
  readonly send?: 'e164' | 'national';
}

export interface OutboundRoute {
  readonly name: string;
  readonly pattern: DialPattern;
  readonly trunk: string;
  readonly strip: number;
  readonly prepend: string;
  readonly send: 'e164' | 'national';
}

export type OutboundRoutesResult =
  | { readonly ok: true; readonly routes: readonly OutboundRoute[] }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Longest number handed to a trunk: E.164's 15 digits plus room for a carrier prefix. */
const MAX_SENT_LENGTH = 24;

/** Messages are `index.field: message`, for the config layer to put under its own path. */
export function compileOutboundRoutes(configs: readonly OutboundRouteConfig[]): OutboundRoutesResult {
  const errors: string[] = [];
  const routes: OutboundRoute[] = [];
  const names = new Set<string>();
  configs.forEach((c, i) => {
    const before = errors.length;
    if (c.name.trim() === '') errors.push(`${i}.name: must not be empty`);
    else if (names.has(c.name)) errors.push(`${i}.name: "${c.name}" is used by an earlier route`);
    names.add(c.name);
    if (c.trunk.trim() === '') errors.push(`${i}.trunk: must not be empty`);
    const strip = c.strip ?? 0;
    if (!Number.isInteger(strip) || strip < 0 || strip > 15) errors.push(`${i}.strip: must be an integer from 0 to 15`);
    const prepend = c.prepend ?? '';
    if (!/^\+?[0-9]{0,15}$/.test(prepend)) errors.push(`${i}.prepend: only digits, with an optional leading '+'`);
    const send = c.send ?? 'e164';
    if (send !== 'e164' && send !== 'national') errors.push(`${i}.send: must be "e164" or "national"`);
    const parsed = parseDialPattern(c.match);
    if (!parsed.ok) {
      errors.push(`${i}.match: ${parsed.reason}`);
    } else if (parsed.pattern.form === 'e164' && send === 'e164' && strip === 0 && prepend !== '') {
      errors.push(`${i}.prepend: would go in front of the '+' of an E.164 number; strip it or send the national form`);
    }
    if (errors.length === before && parsed.ok) {
      routes.push({ name: c.name, pattern: parsed.pattern, trunk: c.trunk, strip, prepend, send });
    }
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, routes };
}

export type RouteOverlapKind = 'identical' | 'unreachable' | 'overlap' | 'narrower-first' | 'cross-form';

export interface RouteOverlap {
  /**
   * identical, unreachable: error (a route that is never used);
   * overlap, cross-form: warning (the first wins for the numbers in common);
   * narrower-first: info (the usual "exception, then the rule").
   */
  readonly severity: 'error' | 'warning' | 'info';
  readonly kind: RouteOverlapKind;
  /** Route names, `first` before `second` in the list. */
  readonly first: string;
  readonly second: string;
  /** A number both match (in the national form when the two patterns use different forms). */
  readonly example: string;
  readonly message: string;
}

export interface OverlapOptions {
  /**
   * How the plan's own numbers look in each form, so that `+33.` and
   * `0[67]XXXXXXXX` are compared: the part of an E.164 pattern matching
   * numbers that start with `e164Prefix` is read as `nationalPrefix` plus the
   * rest. Default +33 / 0; null to compare patterns of one form only.
   */
  readonly domestic?: { readonly e164Prefix: string; readonly nationalPrefix: string } | null;
}

/**
 * Every pair of routes that can match the same number.
 *
 * Between two patterns of the same form the answer is exact (fixed-length
 * digit classes with an optional one-or-more tail: intersection and inclusion
 * are decidable), so "identical" and "unreachable" are errors. Between an
 * E.164 and a national pattern it can only be a warning: 0590 27 12 34 is
 * +590 590 27 12 34, not +33 5 90..., so even `+33.` before `0[1-5]XXXXXXXX`
 * does not make the second one dead.
 */
export function overlaps(routes: readonly OutboundRoute[], options: OverlapOptions = {}): RouteOverlap[] {
  const domestic = options.domestic === undefined ? { e164Prefix: '+33', nationalPrefix: '0' } : options.domestic;
  const found: RouteOverlap[] = [];
  for (let i = 0; i < routes.length; i += 1) {
    for (let j = i + 1; j < routes.length; j += 1) {
      const first = routes[i];
      const second = routes[j];
      if (first === undefined || second === undefined) continue;
      const overlap =
        first.pattern.form === second.pattern.form ? sameFormOverlap(first, second) : crossFormOverlap(first, second, domestic);
      if (overlap !== undefined) found.push(overlap);
    }
  }
  return found;
}

function label(route: OutboundRoute): string {
  return `"${route.name}" (${route.pattern.source})`;
}

function sameFormOverlap(first: OutboundRoute, second: OutboundRoute): RouteOverlap | undefined {
  const a = first.pattern;
  const b = second.pattern;
  const example = dialPatternIntersection(a, b);
  if (example === undefined) return undefined;
  const names = { first: first.name, second: second.name, example };
  if (dialPatternsEquivalent(a, b)) {
    return { severity: 'error', kind: 'identical', ...names, message: `${label(second)} matches the same numbers as ${label(first)} before it, so it is never used` };
  }
  if (dialPatternCovers(a, b)) {
    return { severity: 'error', kind: 'unreachable', ...names, message: `${label(second)} is never used: ${label(first)} before it matches every number it would` };
  }
  if (dialPatternCovers(b, a)) {
    return { severity: 'info', kind: 'narrower-first', ...names, message: `${label(first)} takes its numbers out of the wider ${label(second)} (e.g. ${example})` };
  }
  return { severity: 'warning', kind: 'overlap', ...names, message: `${label(first)} and ${label(second)} both match some numbers (e.g. ${example}); the first wins` };
}

function crossFormOverlap(
  first: OutboundRoute,
  second: OutboundRoute,
  domestic: { readonly e164Prefix: string; readonly nationalPrefix: string } | null,
): RouteOverlap | undefined {
  if (domestic === null) return undefined;
  const toNational = (p: DialPattern): DialPattern | undefined =>
    p.form === 'national' ? p : translateDialPattern(p, domestic.e164Prefix, domestic.nationalPrefix);
  const a = toNational(first.pattern);
  const b = toNational(second.pattern);
  if (a === undefined || b === undefined) return undefined;
  const example = dialPatternIntersection(a, b);
  if (example === undefined) return undefined;
  const e164 = domestic.e164Prefix + example.slice(domestic.nationalPrefix.length);
  return {
    severity: 'warning',
    kind: 'cross-form',
    first: first.name,
    second: second.name,
    example,
    message: `${label(first)} and ${label(second)} both match ${example} (${e164}); the first wins`,
  };
}

export type RouteSelection =
  | { readonly ok: true; readonly route: string; readonly trunk: string; readonly number: string }
  | { readonly ok: false; readonly reason: string };

export function selectOutboundRoute(routes: readonly OutboundRoute[], classification: DialClassification): RouteSelection {
  if (!classification.ok) return { ok: false, reason: `malformed number: ${classification.reason}` };
  if (classification.category === 'internal') return { ok: false, reason: 'internal numbers are not routed to a trunk' };
  const { e164, national } = classification;
  for (const route of routes) {
    const seen = route.pattern.form === 'e164' ? e164 : national;
    if (seen === undefined || !matchesDialPattern(route.pattern, seen)) continue;
    const base = route.send === 'national' ? national : e164 ?? national;
    if (base === undefined) return { ok: false, reason: `route "${route.name}" sends the national form, and ${classification.display} has none` };
    if (route.strip >= base.length) return { ok: false, reason: `route "${route.name}" strips ${route.strip} characters from ${base}, leaving nothing` };
    const number = route.prepend + base.slice(route.strip);
    if (!/^\+?[0-9]+$/.test(number) || number.length > MAX_SENT_LENGTH) {
      return { ok: false, reason: `route "${route.name}" would send "${number}", which is not a number` };
    }
    return { ok: true, route: route.name, trunk: route.trunk, number };
  }
  return { ok: false, reason: `no outbound route for ${classification.display} (${classification.category})` };
}
