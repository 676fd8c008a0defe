/**
 * What a call needs from the media side: SDP offer/answer across its two
 * legs and the relay that anchors the media. The call core drives SIP; this
 * interface hides SDP details and the media engine from it.
 */
import type { SrtpPolicy } from '../config/types.js';
import type { AmdSettings } from '../media/answering-machine-detector.js';
import type { PlayEndReason, PlaylistItem } from '../media/playout/playout-protocol.js';
import type { LegName, RelayStats } from '../rtp/media-protocol.js';
import type { TransportProtocol } from '../sip/transport/types.js';

/** How one leg's phone is reached, which decides SRTP on that leg. */
export interface LegSignalling {
  readonly transport: TransportProtocol;
  /**
   * The address the phone's SIP comes from: media latching accepts packets
   * from it only. null for a trunk, whose media servers are not its SIP
   * server: the address of its SDP is expected instead.
   */
  readonly sourceAddress: string | null;
  readonly srtpPolicy: SrtpPolicy;
  /** Whether SDES keys may be sent on this leg (its SIP is over TLS, or the config allows plaintext). */
  readonly cryptoAllowed: boolean;
}

export type MediaOutcome = { readonly ok: true; readonly sdp: Buffer } | { readonly ok: false; readonly status: number; readonly reason: string };

export interface CallMedia {
  /** The caller's initial offer, turned into the offer for one callee contact. */
  offerForCallee(offerFromCaller: Buffer, callee: LegSignalling): MediaOutcome;
  /** The answering callee's answer, turned into the answer for the caller; the relay is configured for both legs. */
  answerForCaller(answerFromCallee: Buffer, callee: LegSignalling): Promise<MediaOutcome>;
  /** A new offer from one side (re-INVITE, UPDATE), turned into the offer for the other side. */
  reoffer(from: LegName, offer: Buffer): MediaOutcome;
  /** The other side's answer to it, turned into the answer for `from`; the relay follows (hold, resume). */
  reanswer(from: LegName, answer: Buffer): Promise<MediaOutcome>;
  /** Whether an offer only repeats the last one from that side (a session refresh, RFC 4028). */
  repeatsLastOffer(from: LegName, offer: Buffer): boolean;
  /** The last SDP voix sent to a side, for answering a refresh or refreshing. */
  lastSdpTo(to: LegName): Buffer | null;
  /**
   * voix answers the caller's initial offer itself (announcement, voice
   * menu): leg a is negotiated and configured as in a relayed call, with
   * voix's own G.711 endpoint in place of a callee.
   */
  answerLocally(offerFromCaller: Buffer): Promise<MediaOutcome>;
  /**
   * voix calls out itself (the dialer): the offer of its own G.711 endpoint
   * (PCMU, PCMA, telephone-event) for leg a, the called party, with leg a's
   * SRTP policy, as a relayed offer would be.
   */
  offerFromVoix(): MediaOutcome;
  /**
   * The called party's answer to offerFromVoix: leg a is configured as after
   * answerLocally (voix plays to it and hears its keys), with
   * answering-machine detection when `amd` is given.
   */
  acceptAnswer(answer: Buffer, amd?: AmdSettings | null): Promise<MediaOutcome>;
  /** Plays a prepared prompt to the caller `repeat` times after answerLocally: true when it played to the end, false when stopped. */
  play(promptId: string, repeat: number): Promise<boolean>;
  /** The caller hears `items` (prompts, tones, silence) from voix, replacing any play; resolves with why the play ended. */
  playToCaller(items: readonly PlaylistItem[]): Promise<PlayEndReason>;
  /** Stops what voix plays to the caller; false when nothing played. */
  stopPlaying(): Promise<boolean>;
  /** Whether a leg ended up with SRTP. */
  isSecure(leg: LegName): boolean;
  /** Closes the relay; gives its final statistics (null when it never carried media). */
  release(): Promise<RelayStats | null>;
}
