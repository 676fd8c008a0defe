import { describe, expect, it } from 'vitest';
import type { DtmfDigit } from '../../../../src/media/dtmf/dtmf-digit.js';
import {
  DTMF_COLUMN_FREQUENCIES,
  DTMF_ROW_FREQUENCIES,
  GoertzelDtmfDetector,
  type GoertzelDetectorOptions,
} from '../../../../src/media/dtmf/goertzel-detector.js';
import {
  ALL_DIGITS,
  RATE,
  SignalBuilder,
  ToneRecorder,
  addNoise,
  amplitudeOfDbm0,
  digitRecording,
  encodeG711,
  feedPackets,
  seededRandom,
  speechLike,
  toInt16,
  type G711Law,
} from './dtmf-signals.js';

function detectLinear(samples: Int16Array, options?: GoertzelDetectorOptions, samplesPerPacket = 160): ToneRecorder {
  const recorder = new ToneRecorder();
  const detector = new GoertzelDtmfDetector(recorder, options);
  feedPackets(samples.length, (offset, count) => detector.processLinear(samples, offset, count), samplesPerPacket);
  return recorder;
}

function detectG711(samples: Int16Array, law: G711Law, samplesPerPacket = 160): ToneRecorder {
  const payload = encodeG711(samples, law);
  const recorder = new ToneRecorder();
  const detector = new GoertzelDtmfDetector(recorder);
  feedPackets(
    payload.length,
    (offset, count) =>
      law === 'mulaw' ? detector.processMulaw(payload, offset, count) : detector.processAlaw(payload, offset, count),
    samplesPerPacket,
  );
  return recorder;
}

/** One digit between silences. */
function single(digit: DtmfDigit, ms: number, lowDbm0: number, twistDb = 0, frequencyError = 0): Int16Array {
  return toInt16(new SignalBuilder().silence(60).digit(digit, ms, lowDbm0, twistDb, frequencyError).silence(60).build());
}

const EVERY_DIGIT = ALL_DIGITS.join('');

describe('GoertzelDtmfDetector: the acceptance recording', () => {
  // All 16 digits, 60 ms tone + 60 ms gap, -3 to -25 dBm0, twist -2/0/+2 dB, white noise at 15–20 dB SNR.
  it.each([1, 2, 3])('finds every digit in order, exactly once, in 16-bit linear samples (noise seed %i)', (seed) => {
    expect(detectLinear(digitRecording({ seed })).digits).toBe(EVERY_DIGIT);
  });

  it.each(['mulaw', 'alaw'] as const)('finds every digit in order, exactly once, through %s', (law) => {
    for (const seed of [1, 2, 3]) expect(detectG711(digitRecording({ seed }), law).digits).toBe(EVERY_DIGIT);
  });

  it('does not depend on how the samples are cut into packets', () => {
    const recording = digitRecording({ seed: 9 });
    for (const samplesPerPacket of [80, 160, 240, 333, recording.length]) {
      expect(detectLinear(recording, undefined, samplesPerPacket).digits).toBe(EVERY_DIGIT);
      expect(detectG711(recording, 'mulaw', samplesPerPacket).digits).toBe(EVERY_DIGIT);
    }
  });

  it('places each digit inside its tone and measures its duration to within a block', () => {
    const lead = 0.1 * RATE;
    const period = 0.12 * RATE;
    const { detected } = detectLinear(digitRecording({ seed: 4 }));

    detected.forEach((tone, i) => {
      const toneStart = lead + i * period;
      expect(tone.startSample).toBeGreaterThanOrEqual(toneStart - 160);
      expect(tone.startSample).toBeLessThan(toneStart + 160);
      expect(tone.durationSamples).toBeGreaterThanOrEqual(480 - 2 * 160);
      expect(tone.durationSamples).toBeLessThanOrEqual(480 + 160);
    });
  });

  it('separates digits dialled at the Q.24 limit: 40 ms tones, 40 ms pauses', () => {
    for (const seed of [5, 6]) {
      expect(detectLinear(digitRecording({ seed, toneMs: 40, gapMs: 40 })).digits).toBe(EVERY_DIGIT);
    }
  });
});

describe('GoertzelDtmfDetector: key presses', () => {
  it('reports a key held for a second once, and its end with the duration', () => {
    const { detected } = detectLinear(single('7', 1000, -10));

    expect(detected).toHaveLength(1);
    expect(detected[0]?.digit).toBe('7');
    expect(detected[0]?.durationSamples).toBeGreaterThanOrEqual(RATE - 160);
    expect(detected[0]?.durationSamples).toBeLessThanOrEqual(RATE + 160);
  });

  it('reports the same digit twice when it is pressed twice', () => {
    const samples = toInt16(new SignalBuilder().silence(40).digit('5', 80, -10).silence(60).digit('5', 80, -10).silence(40).build());

    expect(detectLinear(samples).digits).toBe('55');
  });

  it('reports a change of digit without a pause', () => {
    const samples = toInt16(new SignalBuilder().silence(40).digit('1', 100, -10).digit('9', 100, -10).silence(40).build());

    expect(detectLinear(samples).digits).toBe('19');
  });

  it('rejects tones of 25 ms or less (Q.24: too short to be a key press)', () => {
    for (const digit of ALL_DIGITS) {
      for (const shift of [0, 40, 80, 120]) {
        const samples = toInt16(new SignalBuilder().silence(40 + shift / 8).digit(digit, 25, -10).silence(60).build());
        expect(detectLinear(samples).digits).toBe('');
      }
    }
  });

  it('accepts twist within 8 dB (low group louder) and 4 dB (high group louder), and rejects more', () => {
    for (const digit of ALL_DIGITS) {
      expect(detectLinear(single(digit, 80, -10, -7)).digits).toBe(digit);
      expect(detectLinear(single(digit, 80, -14, 3)).digits).toBe(digit);
      expect(detectLinear(single(digit, 80, -10, -10)).digits).toBe('');
      expect(detectLinear(single(digit, 80, -14, 6)).digits).toBe('');
    }
  });

  it('accepts tones 1.5% off frequency and rejects tones 3.5% off (Q.24)', () => {
    for (const digit of ALL_DIGITS) {
      expect(detectLinear(single(digit, 80, -10, 0, 0.015)).digits).toBe(digit);
      expect(detectLinear(single(digit, 80, -10, 0, -0.015)).digits).toBe(digit);
      expect(detectLinear(single(digit, 80, -10, 0, 0.035)).digits).toBe('');
      expect(detectLinear(single(digit, 80, -10, 0, -0.035)).digits).toBe('');
    }
  });

  it('accepts tones down to -28 dBm0 and ignores tones below the -30 dBm0 threshold', () => {
    for (const digit of ALL_DIGITS) {
      expect(detectLinear(single(digit, 80, -28)).digits).toBe(digit);
      expect(detectLinear(single(digit, 80, -34)).digits).toBe('');
    }
  });

  it('forgets a digit in progress on reset', () => {
    const samples = single('3', 200, -10);
    const recorder = new ToneRecorder();
    const detector = new GoertzelDtmfDetector(recorder);
    detector.processLinear(samples, 0, 1200);
    expect(recorder.digits).toBe('3');

    detector.reset();
    expect(detector.samplesProcessed).toBe(0);
    detector.processLinear(samples, 1200);

    // The rest of the same tone is a new stream's first digit.
    expect(recorder.digits).toBe('33');
  });

  it('refuses impossible options', () => {
    const recorder = new ToneRecorder();
    expect(() => new GoertzelDtmfDetector(recorder, { blockSize: 10 })).toThrow(RangeError);
    expect(() => new GoertzelDtmfDetector(recorder, { hitsToBegin: 0 })).toThrow(RangeError);
  });
});

describe('GoertzelDtmfDetector: what must not be a digit', () => {
  it('finds nothing in silence or in noise', () => {
    const silence = new Int16Array(RATE * 2);
    const noise = new Float64Array(RATE * 5);
    addNoise(noise, amplitudeOfDbm0(-10) / Math.SQRT2, seededRandom(7), 0, RATE * 5);

    expect(detectLinear(silence).digits).toBe('');
    expect(detectLinear(toInt16(noise)).digits).toBe('');
    expect(detectG711(toInt16(noise), 'alaw').digits).toBe('');
  });

  it('finds nothing in single tones: each DTMF frequency alone, 1 kHz, and dial, ringback and busy tones', () => {
    const singles = [...DTMF_ROW_FREQUENCIES, ...DTMF_COLUMN_FREQUENCIES, 1000, 440, 425].map((hz) => [{ hz, dbm0: -5 }]);
    const pairs = [
      [350, 440], // North American dial tone
      [440, 480], // North American ringback
      [480, 620], // North American busy
    ].map(([low, high]) => [
      { hz: low as number, dbm0: -8 },
      { hz: high as number, dbm0: -8 },
    ]);

    for (const tones of [...singles, ...pairs]) {
      const samples = toInt16(new SignalBuilder().silence(20).tones(500, tones).silence(20).build());
      expect(detectLinear(samples).digits, JSON.stringify(tones)).toBe('');
    }
  });

  it('finds nothing in a speech-like signal whose formants cross the DTMF bands', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const speech = speechLike(10, seed);
      expect(detectLinear(speech).digits).toBe('');
      expect(detectG711(speech, 'mulaw').digits).toBe('');
    }
  });

  it('rejects a tone pair with strong second harmonics (voiced speech), and accepts one with weak harmonics', () => {
    const withHarmonics = (harmonicDb: number): Int16Array =>
      toInt16(
        new SignalBuilder()
          .silence(40)
          .tones(120, [
            { hz: 697, dbm0: -12 },
            { hz: 1209, dbm0: -12 },
            { hz: 1394, dbm0: -12 + harmonicDb },
            { hz: 2418, dbm0: -12 + harmonicDb },
          ])
          .silence(40)
          .build(),
      );

    expect(detectLinear(withHarmonics(-2)).digits).toBe('');
    expect(detectLinear(withHarmonics(-25)).digits).toBe('1');
  });

  it('still finds a digit played over quiet speech', () => {
    const speech = speechLike(1, 11, -30);
    const tone = new SignalBuilder().silence(400).digit('8', 100, -8).silence(500).build();
    const mixed = new Float64Array(Math.min(speech.length, tone.length));
    for (let i = 0; i < mixed.length; i += 1) mixed[i] = (speech[i] ?? 0) + (tone[i] ?? 0);

    expect(detectLinear(toInt16(mixed)).digits).toBe('8');
  });
});
