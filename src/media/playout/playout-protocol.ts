/**
 * What the call core (IVR, voicemail, early media) asks of the media
 * workers' players, and what they tell it back. Everything here crosses
 * the worker's MessagePort by structured cloning: plain data only.
 *
 * Prompts travel once: loadPrompt() copies the G.711 bytes into a
 * SharedArrayBuffer that every worker maps (no copy per worker, none per
 * play); a playlist names prompts by id.
 */
import type { LegName } from '../../rtp/media-protocol.js';
import type { G711Codec } from './g711.js';
import type { ToneName } from './tones.js';

export type { G711Codec } from './g711.js';
export type { ToneName } from './tones.js';

/** One entry of a playlist; the player goes through them back to back, sample after sample. */
export type PlaylistItem =
  /** A loaded prompt (loadPrompt) in the play's codec. */
  | { readonly kind: 'prompt'; readonly prompt: string }
  /**
   * Several loaded prompts as one item, e.g. digits or a number spoken
   * ("2", "3", "5"): one itemEnded when the last one is done. Which
   * prompts say a number is the caller's business (see sayDigits).
   */
  | { readonly kind: 'prompts'; readonly prompts: readonly string[] }
  | { readonly kind: 'silence'; readonly ms: number }
  /** A French call progress tone, looping its cadence for `ms`, or until stopped when null. */
  | { readonly kind: 'tone'; readonly tone: ToneName; readonly ms: number | null };

export interface PlayRequest {
  readonly playlist: readonly PlaylistItem[];
  /** The codec the leg's phone agreed to (SDP); prompts must be loaded in it. */
  readonly codec: G711Codec;
  /** The payload type the SDP gave that codec: 0 and 8 as a rule (RFC 3551), any 0–127 allowed. */
  readonly payloadType: number;
}

/**
 * Why a play ended: its playlist is done; stopPlay(); another play on the
 * same leg replaced it (barge-in); the relay was released.
 */
export type PlayEndReason = 'completed' | 'stopped' | 'replaced' | 'released';

export type PlayoutEvent =
  /** Item `item` (index in the playlist) has been sent to the end. */
  | { readonly type: 'itemEnded'; readonly relayId: number; readonly leg: LegName; readonly playId: number; readonly item: number }
  | {
      readonly type: 'playEnded';
      readonly relayId: number;
      readonly leg: LegName;
      readonly playId: number;
      readonly reason: PlayEndReason;
      /** Packets this play sent. */
      readonly packetsSent: number;
    };

/** What a media engine with players offers the call core (WorkerMediaEngine implements it). */
export interface MediaPlayout {
  /** Makes a prompt playable in every worker, under `promptId` for `codec`; loading the same id again replaces it. */
  loadPrompt(promptId: string, codec: G711Codec, samples: Uint8Array): Promise<void>;
  /** Forgets a prompt; plays already using it finish with it. */
  unloadPrompt(promptId: string, codec: G711Codec): Promise<void>;
  /**
   * The relay leg's phone hears `request.playlist` instead of the other
   * leg's media, from that leg's port, SRTP-protected when the leg has
   * SRTP. What the phone sends keeps being received. A play already on
   * the leg ends ('replaced') and the new one continues its RTP stream.
   * Resolves with the play's id, found in its PlayoutEvents.
   */
  play(relayId: number, leg: LegName, request: PlayRequest): Promise<number>;
  /** Stops the leg's play ('stopped'); false when nothing was playing. The leg relays again. */
  stopPlay(relayId: number, leg: LegName): Promise<boolean>;
}

/**
 * One item saying `digits` one by one, with the prompt id `promptOf(digit)`
 * gives each character. For French words, see sayNumber and
 * src/media/prompts/french-numbers.ts (frenchDigitWords, sayPromptId).
 */
export function sayDigits(digits: string, promptOf: (digit: string) => string): PlaylistItem {
  return { kind: 'prompts', prompts: [...digits].map(promptOf) };
}

/** One item saying `words` (e.g. frenchNumberWords(42)) with the prompt id `promptOf(word)` gives each. */
export function sayWords(words: readonly string[], promptOf: (word: string) => string): PlaylistItem {
  return { kind: 'prompts', prompts: words.map(promptOf) };
}
