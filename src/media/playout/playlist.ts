/**
 * A playlist as the player walks it: segments of G.711 bytes, each a run
 * of samples copied from one table. A prompt is one segment read once;
 * silence and tones are a looping table read for their length; a spoken
 * number is one segment per prompt. Built once per play (cold path), read
 * 160 bytes at a time per packet.
 */
import { MediaConfigurationError } from '../../rtp/media-protocol.js';
import { G711_SAMPLE_RATE, type G711Codec } from './g711.js';
import type { PlaylistItem } from './playout-protocol.js';
import { silenceTable, toneTable } from './tones.js';

export interface PlaylistSegment {
  /** The table the samples come from; read from its start, looping when `samples` is longer. */
  readonly bytes: Uint8Array;
  /** Samples to play; +Infinity for a tone that lasts until stopped. */
  readonly samples: number;
  /** Index of the playlist item the segment belongs to. */
  readonly item: number;
  /** The item's last segment: the item has ended once it is sent. */
  readonly endsItem: boolean;
}

/** Finds a loaded prompt's bytes; null when `promptId` is not loaded in `codec`. */
export type PromptLookup = (promptId: string, codec: G711Codec) => Uint8Array | null;

/** Longest playlist accepted: a bound on what one request can make the worker hold. */
export const MAX_PLAYLIST_ITEMS = 1000;

/** The segments of `items` in `codec`; a MediaConfigurationError names the first item that cannot be played. */
export function resolvePlaylist(items: readonly PlaylistItem[], codec: G711Codec, prompts: PromptLookup): PlaylistSegment[] {
  if (!Array.isArray(items) || items.length === 0) throw new MediaConfigurationError('playlist is empty');
  if (items.length > MAX_PLAYLIST_ITEMS) throw new MediaConfigurationError(`playlist has ${items.length} items; at most ${MAX_PLAYLIST_ITEMS}`);
  const segments: PlaylistSegment[] = [];
  const prompt = (item: number, promptId: unknown): Uint8Array => {
    const bytes = typeof promptId === 'string' ? prompts(promptId, codec) : null;
    if (bytes === null) throw new MediaConfigurationError(`playlist item ${item}: prompt ${JSON.stringify(promptId)} is not loaded for ${codec}`);
    return bytes;
  };
  items.forEach((entry, item) => {
    switch (entry.kind) {
      case 'prompt': {
        const bytes = prompt(item, entry.prompt);
        segments.push({ bytes, samples: bytes.length, item, endsItem: true });
        return;
      }
      case 'prompts': {
        const list: unknown = entry.prompts;
        if (!Array.isArray(list)) throw new MediaConfigurationError(`playlist item ${item}: prompts is not a list`);
        if (list.length === 0) {
          segments.push({ bytes: silenceTable(codec), samples: 0, item, endsItem: true });
          return;
        }
        list.forEach((promptId: unknown, i: number) => {
          const bytes = prompt(item, promptId);
          segments.push({ bytes, samples: bytes.length, item, endsItem: i === list.length - 1 });
        });
        return;
      }
      case 'silence':
        segments.push({ bytes: silenceTable(codec), samples: samplesOf(item, entry.ms), item, endsItem: true });
        return;
      case 'tone': {
        if (entry.tone !== 'ringback' && entry.tone !== 'busy') {
          throw new MediaConfigurationError(`playlist item ${item}: unknown tone ${JSON.stringify(entry.tone)}`);
        }
        const samples = entry.ms === null ? Number.POSITIVE_INFINITY : samplesOf(item, entry.ms);
        segments.push({ bytes: toneTable(entry.tone, codec), samples, item, endsItem: true });
        return;
      }
      default:
        throw new MediaConfigurationError(`playlist item ${item}: unknown kind ${JSON.stringify((entry as { kind?: unknown }).kind)}`);
    }
  });
  return segments;
}

function samplesOf(item: number, ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new MediaConfigurationError(`playlist item ${item}: duration ${String(ms)} ms is not a duration`);
  }
  return Math.round((ms * G711_SAMPLE_RATE) / 1000);
}
