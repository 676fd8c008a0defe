/**
 * The players of one media worker: the prompts loaded into it, one
 * RtpPlayer per relay leg that has played (kept for the relay's life so
 * successive plays continue one RTP stream), and the events told to the
 * main thread. The media worker host calls it for the play, stopPlay,
 * loadPrompt and unloadPrompt requests and when a relay is released.
 */
import type { LegName } from '../../rtp/media-protocol.js';
import { MediaConfigurationError } from '../../rtp/media-protocol.js';
import type { G711Codec } from './g711.js';
import { resolvePlaylist } from './playlist.js';
import type { PlayoutScheduler, PlayoutSchedulerStats } from './playout-scheduler.js';
import type { PlayEndReason, PlayoutEvent, PlayRequest } from './playout-protocol.js';
import { RtpPlayer, type PlaybackListener, type PlayoutSink, type RtpStreamIdentity } from './rtp-player.js';

/** The relay leg a player sends through (RelayLeg). */
export interface PlayoutLeg extends PlayoutSink {
  /** While true, what the other leg relays is not sent to this leg's phone: it hears the player. */
  setPlaying(playing: boolean): void;
}

export interface WorkerPlayoutStats extends PlayoutSchedulerStats {
  readonly players: number;
  readonly playing: number;
  readonly prompts: number;
  readonly promptBytes: number;
}

interface LegPlayer {
  readonly player: RtpPlayer;
  readonly leg: PlayoutLeg;
}

const CODECS: readonly G711Codec[] = ['PCMU', 'PCMA'];

export class WorkerPlayout {
  private readonly prompts = new Map<string, Uint8Array>();
  private readonly players = new Map<number, LegPlayer>();

  constructor(
    readonly scheduler: PlayoutScheduler,
    private readonly emit: (event: PlayoutEvent) => void,
    /** Tests fix the streams' SSRC and first numbers; random otherwise (RFC 3550 §5.1). */
    private readonly identity?: () => RtpStreamIdentity,
  ) {}

  /** `samples` is shared with the main thread and the other workers (SharedArrayBuffer) or this worker's own copy. */
  loadPrompt(promptId: string, codec: G711Codec, samples: SharedArrayBuffer | ArrayBuffer | Uint8Array): void {
    checkCodec(codec);
    if (typeof promptId !== 'string' || promptId === '') throw new MediaConfigurationError('a prompt needs a non-empty id');
    const bytes = samples instanceof Uint8Array ? samples : new Uint8Array(samples);
    this.prompts.set(promptKey(promptId, codec), bytes);
  }

  unloadPrompt(promptId: string, codec: G711Codec): boolean {
    return this.prompts.delete(promptKey(promptId, codec));
  }

  /** Starts (or replaces) the play on a relay leg; a MediaConfigurationError when the request cannot be played. */
  play(relayId: number, legName: LegName, leg: PlayoutLeg, playId: number, request: PlayRequest): void {
    checkCodec(request.codec);
    const { payloadType } = request;
    if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) {
      throw new MediaConfigurationError(`payload type ${String(payloadType)} is not an RTP payload type (0-127)`);
    }
    const segments = resolvePlaylist(request.playlist, request.codec, (promptId, codec) => this.prompts.get(promptKey(promptId, codec)) ?? null);
    const key = legKey(relayId, legName);
    let entry = this.players.get(key);
    if (entry === undefined) {
      entry = { player: new RtpPlayer(this.scheduler, leg, this.identity?.()), leg };
      this.players.set(key, entry);
    }
    const { player } = entry;
    leg.setPlaying(true);
    player.play(segments, request.codec, payloadType, this.listener(relayId, legName, playId, entry));
  }

  /** Stops the leg's play; false when nothing was playing there. */
  stop(relayId: number, legName: LegName): boolean {
    return this.players.get(legKey(relayId, legName))?.player.stop('stopped') ?? false;
  }

  /** Before a relay's sockets close: its plays end ('released') and its players are forgotten. */
  releaseRelay(relayId: number): void {
    for (const legName of ['a', 'b'] as const) {
      const key = legKey(relayId, legName);
      const entry = this.players.get(key);
      if (entry === undefined) continue;
      this.players.delete(key);
      entry.player.stop('released');
    }
  }

  /** Ends everything (worker shutdown). */
  close(): void {
    for (const entry of this.players.values()) entry.player.stop('released');
    this.players.clear();
    this.scheduler.clear();
  }

  /** The figures; `resetPeaks` starts the worst-case ones afresh after reading them. */
  stats(resetPeaks = false): WorkerPlayoutStats {
    let playing = 0;
    for (const entry of this.players.values()) if (entry.player.playing) playing++;
    let promptBytes = 0;
    for (const bytes of this.prompts.values()) promptBytes += bytes.length;
    const stats = { ...this.scheduler.stats(), players: this.players.size, playing, prompts: this.prompts.size, promptBytes };
    if (resetPeaks) this.scheduler.resetPeaks();
    return stats;
  }

  private listener(relayId: number, leg: LegName, playId: number, entry: LegPlayer): PlaybackListener {
    return {
      itemEnded: (item: number) => this.emit({ type: 'itemEnded', relayId, leg, playId, item }),
      ended: (reason: PlayEndReason, packetsSent: number) => {
        // A replaced play hands the leg to the next one at once: it stays playing.
        if (reason !== 'replaced') entry.leg.setPlaying(false);
        this.emit({ type: 'playEnded', relayId, leg, playId, reason, packetsSent });
      },
    };
  }
}

function legKey(relayId: number, leg: LegName): number {
  return relayId * 2 + (leg === 'a' ? 0 : 1);
}

function promptKey(promptId: string, codec: G711Codec): string {
  return `${codec}:${promptId}`;
}

function checkCodec(codec: unknown): asserts codec is G711Codec {
  if (!CODECS.includes(codec as G711Codec)) throw new MediaConfigurationError(`codec ${JSON.stringify(codec)} cannot be played: PCMU or PCMA`);
}
