/**
 * What a call rings, as the call core needs it once routing has decided:
 * a hunt hands out attempts one after the other (a user's phones, then its
 * forwarding; a ring group's members in order; a trunk), and each attempt
 * is a set of targets rung in parallel, the first 2xx winning.
 */
import type { SipUri } from '../sip/uri.js';
import type { Destination } from '../sip/transport/types.js';
import type { LegSignalling } from './call-media.js';

/** Who is on a leg, for From/To, logs and CDRs: an extension, or a number outside. */
export interface Party {
  /** The extension, or the outside number as presented. */
  readonly extension: string;
  readonly name: string;
}

/** One INVITE voix sends. */
export interface CallTarget {
  /** For logs: the contact URI, or the trunk and number. */
  readonly label: string;
  readonly requestUri: SipUri;
  readonly destination: Destination;
  /** RFC 3327 Path of the registration, sent as Route. */
  readonly route: readonly string[];
  readonly signalling: LegSignalling;
  /** From of voix's INVITE (the tag is added by the call). */
  readonly from: { readonly displayName: string | null; readonly uri: SipUri };
  readonly to: { readonly displayName: string | null; readonly uri: SipUri };
  /** User part of voix's Contact on this leg. */
  readonly contactUser: string;
  readonly extraHeaders: ReadonlyArray<readonly [string, string]>;
  /** Digest credentials for a provider that challenges voix's INVITE (RFC 3261 §22.2). */
  readonly credentials: { readonly username: string; readonly password: string } | null;
  /** Trunk name when the target is a trunk, for the per-trunk call limit and CDRs. */
  readonly trunk: string | null;
}

export interface Attempt {
  /** For logs: "user 1002", "group 2000, member 1001", "trunk operateur". */
  readonly label: string;
  readonly targets: readonly CallTarget[];
  /** How long the attempt rings; null: the call's ring timeout. */
  readonly ringSeconds: number | null;
}

/** How an attempt ended, as forwarding rules see it. */
export type AttemptOutcome = 'busy' | 'no-answer' | 'unavailable' | 'failed';

/** The end of a hunt: the final answer the caller gets. */
export interface HuntEnd {
  readonly status: number;
  readonly reason?: string;
  /** Why, for logs. */
  readonly why: string;
}

/** voix answers the caller itself and plays an announcement, then hangs up. */
export interface Announcement {
  readonly kind: 'announcement';
  /** For logs and CDRs: "message 8000". */
  readonly label: string;
  /** The message's number: its prompt is prepared under this id. */
  readonly promptId: string;
  readonly repeat: number;
}

/** voix answers the caller itself and runs a voice menu (src/ivr); its choices start new hunts. */
export interface MenuEntry {
  readonly kind: 'menu';
  /** For logs: "menu 3000". */
  readonly label: string;
  readonly menu: string;
}

export type HuntStep = Attempt | HuntEnd | Announcement | MenuEntry;

export function isHuntEnd(step: HuntStep): step is HuntEnd {
  return 'status' in step;
}

export function isAnnouncement(step: HuntStep): step is Announcement {
  return 'kind' in step && step.kind === 'announcement';
}

export function isMenuEntry(step: HuntStep): step is MenuEntry {
  return 'kind' in step && step.kind === 'menu';
}

/** The routing decision the call drives: the first attempt, then what follows a failed one. */
export interface Hunt {
  first(): HuntStep;
  next(outcome: AttemptOutcome, status: number): HuntStep;
}

/** RFC 3261 §16.7 and forwarding practice: busy when the phone says so, no answer when it does not answer. */
export function outcomeOf(status: number): AttemptOutcome {
  if (status === 486 || status === 600) return 'busy';
  if (status === 408) return 'no-answer';
  if (status === 480) return 'unavailable';
  return 'failed';
}
