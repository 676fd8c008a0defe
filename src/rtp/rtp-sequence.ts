/**
 * Sequence number bookkeeping of one RTP source, as in RFC 3550 A.1
 * (`init_seq`, `update_seq`) and A.3 (expected and lost packets): the
 * extended highest sequence number survives the 16-bit wrap, large jumps
 * are taken as a restarted sender only once two packets agree, and a new
 * source is on probation until MIN_SEQUENTIAL packets arrive in sequence.
 */

const RTP_SEQ_MOD = 0x10000;
/** A.1: a forward jump of less than this is taken as loss. */
export const MAX_DROPOUT = 3000;
/** A.1: a backward jump of less than this is taken as reordering or a duplicate. */
export const MAX_MISORDER = 100;
/** A.1: packets in sequence needed before a new source counts. */
export const MIN_SEQUENTIAL = 2;

export class RtpSequenceState {
  private maxSeq = 0;
  /** Shifted count of sequence number wraps (A.1 `cycles`: a multiple of 2^16). */
  private cycles = 0;
  private baseSeq = 0;
  /** A.1 `bad_seq`: the sequence number after a jump, expected next if the sender really restarted. */
  private badSeq = RTP_SEQ_MOD + 1;
  private probation = 0;
  /** A.1 `received`: packets accepted since `init_seq`. */
  private received = 0;
  /** Losses counted before the sequence was re-initialised (restarted sender), so a call's total survives it. */
  private lostBeforeRestart = 0;
  private started = false;

  private readonly minSequential: number;

  /** `minSequential` of 1 accepts a source on its first packet; 0 would be meaningless (A.1 needs one packet to start). */
  constructor(minSequential: number = MIN_SEQUENTIAL) {
    this.minSequential = Math.max(1, Math.floor(minSequential));
  }

  /** A.1: "a source is declared valid only after MIN_SEQUENTIAL packets have been received in sequence". */
  get valid(): boolean {
    return this.started && this.probation === 0;
  }

  /** A.1: cycles + max_seq, once the source is valid. */
  get extendedHighestSequence(): number {
    return this.valid ? this.cycles + this.maxSeq : 0;
  }

  /** A.3: extended_max − base_seq + 1. */
  get expected(): number {
    return this.valid ? this.cycles + this.maxSeq - this.baseSeq + 1 : 0;
  }

  get packetsReceived(): number {
    return this.received;
  }

  /** A.3: expected − received, plus what was lost before a restart; negative when duplicates outnumber losses. */
  get packetsLost(): number {
    return this.lostBeforeRestart + (this.valid ? this.expected - this.received : 0);
  }

  /**
   * A.1 `update_seq` for one packet; the first call is the source's first
   * packet. Returns whether the packet is valid (counted as received).
   */
  update(seq: number): boolean {
    if (!this.started) {
      // A.1: init_seq(s, seq); s->max_seq = seq - 1; s->probation = MIN_SEQUENTIAL;
      this.started = true;
      this.initSequence(seq);
      this.maxSeq = (seq + RTP_SEQ_MOD - 1) % RTP_SEQ_MOD;
      this.probation = this.minSequential;
    }
    const udelta = (seq - this.maxSeq + RTP_SEQ_MOD) % RTP_SEQ_MOD;
    if (this.probation > 0) {
      if (seq === (this.maxSeq + 1) % RTP_SEQ_MOD) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSequence(seq);
          this.received++;
          return true;
        }
      } else {
        this.probation = this.minSequential - 1;
        this.maxSeq = seq;
      }
      return false;
    }
    if (udelta < MAX_DROPOUT) {
      // In order, with a permissible gap; a smaller number means the 16-bit counter wrapped.
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD;
      this.maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A very large jump: two sequential packets mean the sender restarted its sequence.
      if (seq === this.badSeq) {
        this.lostBeforeRestart += this.expected - this.received;
        this.initSequence(seq);
      } else {
        this.badSeq = (seq + 1) % RTP_SEQ_MOD;
        return false;
      }
    }
    // Otherwise a duplicate or a reordered packet: counted, max_seq unchanged.
    this.received++;
    return true;
  }

  /** Forgets the source: the next update is a new source's first packet. */
  reset(): void {
    this.started = false;
    this.probation = 0;
    this.lostBeforeRestart = 0;
    this.initSequence(0);
  }

  private initSequence(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
  }
}
