/**
 * Call detail records in SQLite. A row is written when a call starts (so
 * `voix calls` sees active calls and a crash leaves a trace), updated when
 * it is answered, and completed when it ends.
 */
import type { RelayStats } from '../rtp/media-protocol.js';
import type { Db } from '../store/database.js';

export type EndCause =
  | 'normal'
  | 'busy'
  | 'no-answer'
  | 'cancelled'
  | 'rejected'
  | 'unavailable'
  | 'not-found'
  | 'media-refused'
  | 'failed'
  | 'ack-timeout'
  | 'session-expired'
  | 'server-stopped'
  | 'server-restarted';

export type HangupBy = 'caller' | 'callee' | 'voix';

export interface CallStart {
  readonly callId: string;
  readonly caller: string;
  readonly callee: string;
  readonly callerTransport: string;
  readonly startedAt: number;
  readonly srtpCaller: boolean;
}

export interface CallEnd {
  readonly endedAt: number;
  readonly status: number;
  readonly cause: EndCause;
  readonly hangupBy: HangupBy;
  readonly media: RelayStats | null;
}

export interface CdrRow {
  readonly id: number;
  readonly callId: string;
  readonly caller: string;
  readonly callee: string;
  readonly callerTransport: string;
  readonly calleeTransport: string | null;
  readonly startedAt: number;
  readonly answeredAt: number | null;
  readonly endedAt: number | null;
  readonly durationSeconds: number | null;
  readonly status: number | null;
  readonly endCause: string | null;
  readonly hangupBy: string | null;
  readonly srtpCaller: boolean;
  readonly srtpCallee: boolean;
  readonly media: RelayStats | null;
}

interface Row {
  id: number;
  call_id: string;
  caller: string;
  callee: string;
  caller_transport: string;
  callee_transport: string | null;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  duration_seconds: number | null;
  status: number | null;
  end_cause: string | null;
  hangup_by: string | null;
  srtp_caller: number;
  srtp_callee: number;
  media_stats: string | null;
}

function fromRow(r: Row): CdrRow {
  let media: RelayStats | null = null;
  if (r.media_stats !== null) {
    try {
      media = JSON.parse(r.media_stats) as RelayStats;
    } catch {
      media = null;
    }
  }
  return {
    id: r.id,
    callId: r.call_id,
    caller: r.caller,
    callee: r.callee,
    callerTransport: r.caller_transport,
    calleeTransport: r.callee_transport,
    startedAt: r.started_at,
    answeredAt: r.answered_at,
    endedAt: r.ended_at,
    durationSeconds: r.duration_seconds,
    status: r.status,
    endCause: r.end_cause,
    hangupBy: r.hangup_by,
    srtpCaller: r.srtp_caller === 1,
    srtpCallee: r.srtp_callee === 1,
    media,
  };
}

export class CdrStore {
  private readonly insert;
  private readonly answer;
  private readonly finish;
  private readonly closeStale;

  /** `onEnd` hears each completed record (the metrics count outcomes and RTP quality from it). */
  constructor(
    private readonly db: Db,
    private readonly onEnd?: (end: CallEnd) => void,
  ) {
    this.insert = db.prepare(
      `INSERT INTO calls (call_id, caller, callee, caller_transport, started_at, srtp_caller)
       VALUES (@call_id, @caller, @callee, @caller_transport, @started_at, @srtp_caller)`,
    );
    this.answer = db.prepare('UPDATE calls SET answered_at = ?, callee_transport = ?, srtp_caller = ?, srtp_callee = ? WHERE id = ?');
    this.finish = db.prepare(
      `UPDATE calls SET ended_at = @ended_at, duration_seconds = @duration, status = @status, end_cause = @cause,
         hangup_by = @hangup_by, media_stats = @media WHERE id = @id`,
    );
    this.closeStale = db.prepare("UPDATE calls SET ended_at = ?, end_cause = 'server-restarted', hangup_by = 'voix' WHERE ended_at IS NULL");
  }

  /** Calls left open by a previous run that did not end cleanly are closed (at start-up). */
  closeStaleCalls(now: number): number {
    return this.closeStale.run(now).changes;
  }

  start(call: CallStart): number {
    const result = this.insert.run({
      call_id: call.callId,
      caller: call.caller,
      callee: call.callee,
      caller_transport: call.callerTransport,
      started_at: call.startedAt,
      srtp_caller: call.srtpCaller ? 1 : 0,
    });
    return Number(result.lastInsertRowid);
  }

  /** The call was answered: which transport the callee used, and which legs ended up with SRTP. */
  answered(id: number, at: number, calleeTransport: string, srtp: { caller: boolean; callee: boolean }): void {
    this.answer.run(at, calleeTransport, srtp.caller ? 1 : 0, srtp.callee ? 1 : 0, id);
  }

  end(id: number, answeredAt: number | null, end: CallEnd): void {
    this.finish.run({
      id,
      ended_at: end.endedAt,
      duration: answeredAt === null ? 0 : Math.round((end.endedAt - answeredAt) / 1000),
      status: end.status,
      cause: end.cause,
      hangup_by: end.hangupBy,
      media: end.media === null ? null : JSON.stringify(end.media),
    });
    this.onEnd?.(end);
  }
}

/** Active calls (no end yet), oldest first, for the CLI. */
export function readActiveCalls(db: Db): CdrRow[] {
  return (db.prepare('SELECT * FROM calls WHERE ended_at IS NULL ORDER BY started_at').all() as Row[]).map(fromRow);
}

/** The most recent calls, newest first. */
export function readRecentCalls(db: Db, limit: number): CdrRow[] {
  return (db.prepare('SELECT * FROM calls ORDER BY started_at DESC, id DESC LIMIT ?').all(limit) as Row[]).map(fromRow);
}
