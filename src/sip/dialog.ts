/**
 * A SIP dialog (RFC 3261 §12): the peer-to-peer relationship an INVITE
 * creates, identified by Call-ID, local tag and remote tag. It builds the
 * requests voix sends inside the dialog (§12.2.1.1) and checks the ones it
 * receives (§12.2.2).
 */
import { newBranch } from './builders.js';
import { paramValue } from './grammar.js';
import { Headers, parseContacts, parseNameAddr, tagOf, type NameAddr, type Via } from './headers.js';
import { SipRequest, type SipResponse } from './message.js';
import { cloneSipUri, formatUri, isSipUri, type Uri } from './uri.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

export interface DialogInit {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** From (UAC) or To (UAS) of the initial request, without tag. */
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  readonly localSeq: number;
  readonly remoteSeq: number | null;
  readonly remoteTarget: Uri;
  /** Route set, in the order requests must carry it (§12.1.1, §12.1.2). */
  readonly routeSet: readonly string[];
  readonly secure: boolean;
  readonly state: DialogState;
}

function withoutTag(na: NameAddr): NameAddr {
  return { ...na, params: na.params.filter((p) => p.name !== 'tag') };
}

function withTag(na: NameAddr, tag: string): NameAddr {
  return { ...na, params: [...na.params.filter((p) => p.name !== 'tag'), { name: 'tag', value: tag }] };
}

function contactTarget(values: readonly string[]): Uri | null {
  const contacts = parseContacts(values);
  if (contacts === null || contacts.wildcard) return null;
  const first = contacts.contacts[0];
  return first === undefined ? null : first.uri;
}

/** The URI without its header part: URI headers are never used as routing input (RFC 4475 §3.3.14). */
function routable(uri: Uri): Uri {
  if (!isSipUri(uri) || uri.headers === null) return uri;
  return { ...cloneSipUri(uri), headers: null };
}

/** Why a request received in a dialog is refused (§12.2.2). */
export type InDialogCheck = { readonly ok: true } | { readonly ok: false; readonly status: number; readonly reason: string };

export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string;
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  private localSeq: number;
  private remoteSeq: number | null;
  remoteTarget: Uri;
  readonly routeSet: readonly string[];
  readonly secure: boolean;
  state: DialogState;

  constructor(init: DialogInit) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.secure = init.secure;
    this.state = init.state;
  }

  /**
   * §12.1.2: the dialog a UAC gets from a response with a To tag (1xx
   * early, 2xx confirmed) to its INVITE. Route set from Record-Route,
   * reversed; remote target from the response's Contact.
   */
  static forUac(invite: SipRequest, response: SipResponse): Dialog | null {
    const remoteTag = tagOf(response.to);
    const localTag = tagOf(invite.from);
    if (remoteTag === null || localTag === null) return null;
    const target = contactTarget(response.headers.getAll('contact'));
    const routeSet = (response.headers.getList('record-route') ?? []).slice().reverse();
    return new Dialog({
      callId: invite.callId,
      localTag,
      remoteTag,
      localUri: withoutTag(invite.from),
      remoteUri: withoutTag(response.to),
      localSeq: invite.cseq.seq,
      remoteSeq: null,
      remoteTarget: routable(target ?? invite.uri),
      routeSet,
      secure: invite.uri.scheme === 'sips',
      state: response.status >= 200 ? 'confirmed' : 'early',
    });
  }

  /**
   * §12.1.1: the dialog a UAS creates when it answers an INVITE with a To
   * tag. Route set from Record-Route in order; remote target from the
   * request's Contact.
   */
  static forUas(invite: SipRequest, localTag: string, state: DialogState): Dialog | null {
    const remoteTag = tagOf(invite.from);
    if (remoteTag === null) return null;
    const target = contactTarget(invite.headers.getAll('contact'));
    if (target === null) return null;
    return new Dialog({
      callId: invite.callId,
      localTag,
      remoteTag,
      localUri: withoutTag(invite.to),
      remoteUri: withoutTag(invite.from),
      localSeq: 0,
      remoteSeq: invite.cseq.seq,
      remoteTarget: routable(target),
      routeSet: invite.headers.getList('record-route') ?? [],
      secure: invite.uri.scheme === 'sips',
      state,
    });
  }

  /** Whether a request or response belongs to this dialog, seen from this side. */
  matches(callId: string, localTag: string | null, remoteTag: string | null): boolean {
    return callId === this.callId && localTag === this.localTag && remoteTag === this.remoteTag;
  }

  /** §12.2.2: a request from the peer must have a higher CSeq than the last one (else 500). */
  checkIncoming(request: SipRequest): InDialogCheck {
    if (request.method === 'ACK' || request.method === 'CANCEL') return { ok: true };
    if (this.remoteSeq !== null && request.cseq.seq <= this.remoteSeq) {
      return { ok: false, status: 500, reason: 'CSeq out of order' };
    }
    this.remoteSeq = request.cseq.seq;
    // §12.2.2: a target refresh request updates the remote target.
    if (request.method === 'INVITE' || request.method === 'UPDATE') {
      const target = contactTarget(request.headers.getAll('contact'));
      if (target !== null) this.remoteTarget = routable(target);
    }
    return { ok: true };
  }

  /** §12.2.1.2: a 2xx to a target refresh request updates the remote target. */
  updateTargetFrom(response: SipResponse): void {
    const target = contactTarget(response.headers.getAll('contact'));
    if (target !== null) this.remoteTarget = routable(target);
  }

  /**
   * §12.2.1.1: a new request in the dialog: Request-URI and Route from the
   * remote target and route set (loose routing), tags, next local CSeq.
   * `via` is voix's Via for the transport used (a fresh branch is added).
   */
  createRequest(method: string, via: Via, options: { headers?: Headers; body?: Buffer; cseq?: number } = {}): SipRequest {
    const headers = options.headers ?? new Headers();
    let requestUri: Uri = this.remoteTarget;
    const routes = [...this.routeSet];
    const first = routes[0] === undefined ? null : parseNameAddr(routes[0]);
    if (first !== null && isSipUri(first.uri) && paramValue(first.uri.params, 'lr') === undefined) {
      // Strict router (RFC 2543): its URI becomes the Request-URI, the remote target the last Route.
      requestUri = first.uri;
      routes.shift();
      routes.push(`<${formatUri(this.remoteTarget)}>`);
    }
    for (const r of routes) headers.append('Route', r);
    const seq = options.cseq ?? (method === 'ACK' || method === 'CANCEL' ? this.localSeq : ++this.localSeq);
    return new SipRequest(method, requestUri, {
      via: [{ ...via, params: [...via.params.filter((p) => p.name !== 'branch'), { name: 'branch', value: newBranch() }] }],
      from: withTag(this.localUri, this.localTag),
      to: withTag(this.remoteUri, this.remoteTag),
      callId: this.callId,
      cseq: { seq, method },
      maxForwards: 70,
      headers,
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
  }

  /** §13.2.2.4: the ACK for a 2xx to the INVITE with CSeq `inviteSeq`, a new transaction of its own. */
  createAck(inviteSeq: number, via: Via, options: { body?: Buffer; headers?: Headers } = {}): SipRequest {
    return this.createRequest('ACK', via, { ...options, cseq: inviteSeq });
  }

  /** The CSeq number of the last request voix sent in this dialog. */
  get lastLocalSeq(): number {
    return this.localSeq;
  }
}
