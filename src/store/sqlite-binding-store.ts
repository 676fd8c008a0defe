/** Registration bindings in SQLite, so a restart does not forget registered phones. */
import type { Binding, BindingStore } from '../registrar/binding.js';
import type { TransportProtocol } from '../sip/transport/types.js';
import type { Db } from './database.js';

interface BindingRow {
  aor: string;
  contact: string;
  instance_id: string | null;
  reg_id: number | null;
  call_id: string;
  cseq: number;
  expires_at: number;
  q: number | null;
  transport: string;
  source_address: string;
  source_port: number;
  path: string;
  user_agent: string | null;
  updated_at: number;
}

function isTransport(s: string): s is TransportProtocol {
  return s === 'udp' || s === 'tcp' || s === 'tls';
}

export function bindingFromRow(row: BindingRow): Binding | null {
  if (!isTransport(row.transport)) return null;
  let path: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.path);
    if (Array.isArray(parsed)) path = parsed.filter((p): p is string => typeof p === 'string');
  } catch {
    path = [];
  }
  return {
    aor: row.aor,
    contact: row.contact,
    instanceId: row.instance_id,
    regId: row.reg_id,
    callId: row.call_id,
    cseq: row.cseq,
    expiresAt: row.expires_at,
    q: row.q,
    transport: row.transport,
    sourceAddress: row.source_address,
    sourcePort: row.source_port,
    connectionId: null,
    path,
    userAgent: row.user_agent,
    updatedAt: row.updated_at,
  };
}

export class SqliteBindingStore implements BindingStore {
  private readonly upsert;
  private readonly deleteOne;
  private readonly deleteExpired;
  private readonly selectAll;

  constructor(private readonly db: Db) {
    this.upsert = db.prepare(
      `INSERT INTO bindings (aor, contact, instance_id, reg_id, call_id, cseq, expires_at, q, transport, source_address, source_port, path, user_agent, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (aor, contact) DO UPDATE SET
         instance_id = excluded.instance_id, reg_id = excluded.reg_id, call_id = excluded.call_id, cseq = excluded.cseq,
         expires_at = excluded.expires_at, q = excluded.q, transport = excluded.transport, source_address = excluded.source_address,
         source_port = excluded.source_port, path = excluded.path, user_agent = excluded.user_agent, updated_at = excluded.updated_at`,
    );
    this.deleteOne = db.prepare('DELETE FROM bindings WHERE aor = ? AND contact = ?');
    this.deleteExpired = db.prepare('DELETE FROM bindings WHERE expires_at <= ?');
    this.selectAll = db.prepare('SELECT * FROM bindings ORDER BY aor, expires_at');
  }

  loadAll(): Binding[] {
    const out: Binding[] = [];
    for (const row of this.selectAll.all() as BindingRow[]) {
      const b = bindingFromRow(row);
      if (b !== null) out.push(b);
    }
    return out;
  }

  save(b: Binding): void {
    // Positional parameters, in the column order of the INSERT: binding by name costs about 3 µs more per row.
    this.upsert.run(
      b.aor,
      b.contact,
      b.instanceId,
      b.regId,
      b.callId,
      b.cseq,
      b.expiresAt,
      b.q,
      b.transport,
      b.sourceAddress,
      b.sourcePort,
      b.path.length === 0 ? '[]' : JSON.stringify(b.path),
      b.userAgent,
      b.updatedAt,
    );
  }

  remove(aor: string, contact: string): void {
    this.deleteOne.run(aor, contact);
  }

  removeExpired(now: number): void {
    this.deleteExpired.run(now);
  }
}

/** Bindings still valid at `now`, read-only, for the CLI. */
export function readBindings(db: Db, now: number): Binding[] {
  const rows = db.prepare('SELECT * FROM bindings WHERE expires_at > ? ORDER BY aor, expires_at').all(now) as BindingRow[];
  const out: Binding[] = [];
  for (const row of rows) {
    const b = bindingFromRow(row);
    if (b !== null) out.push(b);
  }
  return out;
}
