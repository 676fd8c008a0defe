/**
 * Call progress tones and silence as G.711 tables, generated once per
 * codec on first use and then only read (the player copies 160 bytes of a
 * table per packet; nothing is computed per packet).
 *
 * French tones (as listed for France in ITU-T E.180 Supplement 2): a
 * single 440 Hz frequency; ringback ("retour d'appel") 1.5 s on, 3.5 s
 * off; busy ("occupation") 0.5 s on, 0.5 s off. Level −10 dBm0, our
 * choice: clearly audible, well below clipping. A table holds one
 * whole cadence cycle: 440 Hz makes exactly 11 cycles in 200 samples at
 * 8 kHz, so each burst (12 000 or 4 000 samples) is a whole number of
 * sine cycles starting and ending at zero, and the table loops without a
 * click.
 */
import { encodeSample, G711_SAMPLE_RATE, G711_SILENCE, type G711Codec } from './g711.js';

export type ToneName = 'ringback' | 'busy';

export interface ToneCadence {
  readonly frequencyHz: number;
  readonly onMs: number;
  readonly offMs: number;
}

export const FRENCH_TONES: Readonly<Record<ToneName, ToneCadence>> = {
  ringback: { frequencyHz: 440, onMs: 1500, offMs: 3500 },
  busy: { frequencyHz: 440, onMs: 500, offMs: 500 },
};

/**
 * Peak of a sine at 0 dBm0 in 16-bit linear: G.711 puts 0 dBm0 at 3.17 dB
 * below µ-law's full scale (8159 of 14 bits, ×4).
 */
const ZERO_DBM0_PEAK = 8159 * 4 * 10 ** (-3.17 / 20);
export const TONE_LEVEL_DBM0 = -10;

/** A 1 s silence table: long enough that copying a packet from it never wraps more than once. */
const SILENCE_SAMPLES = G711_SAMPLE_RATE;

const toneTables = new Map<string, Uint8Array>();
const silenceTables = new Map<G711Codec, Uint8Array>();

/** One cadence cycle of `tone` in `codec` (the on part, then the off part as silence). */
export function toneTable(tone: ToneName, codec: G711Codec): Uint8Array {
  const key = `${tone}/${codec}`;
  let table = toneTables.get(key);
  if (table === undefined) {
    table = generateTone(FRENCH_TONES[tone], codec);
    toneTables.set(key, table);
  }
  return table;
}

/** One second of G.711 silence (the zero-sample code). */
export function silenceTable(codec: G711Codec): Uint8Array {
  let table = silenceTables.get(codec);
  if (table === undefined) {
    table = new Uint8Array(SILENCE_SAMPLES).fill(G711_SILENCE[codec]);
    silenceTables.set(codec, table);
  }
  return table;
}

export function generateTone(cadence: ToneCadence, codec: G711Codec, levelDbm0 = TONE_LEVEL_DBM0): Uint8Array {
  const onSamples = Math.round((cadence.onMs * G711_SAMPLE_RATE) / 1000);
  const offSamples = Math.round((cadence.offMs * G711_SAMPLE_RATE) / 1000);
  const table = new Uint8Array(onSamples + offSamples).fill(G711_SILENCE[codec]);
  const peak = ZERO_DBM0_PEAK * 10 ** (levelDbm0 / 20);
  const step = (2 * Math.PI * cadence.frequencyHz) / G711_SAMPLE_RATE;
  for (let n = 0; n < onSamples; n++) table[n] = encodeSample(codec, peak * Math.sin(step * n));
  return table;
}
