/**
 * Structured logs: one JSON object per line, `time`, `level` and `msg` first,
 * then the fields in the order given. Call-related lines carry `callId`.
 * Secrets (passwords, HA1, keys) are never passed here.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  isLevelEnabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line (kept as given, not copied: pass an object nobody changes afterwards). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to standard output. */
  write?: (line: string) => void;
  /** Time source, for tests. */
  now?: () => number;
}

function serializeError(err: Error): LogFields {
  return { name: err.name, message: err.message, stack: err.stack };
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return serializeError(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** True when every value is a string, a number, a boolean, null or undefined: the replacer would change nothing. */
function onlyPlainValues(record: LogFields): boolean {
  for (const key in record) {
    const value = record[key];
    if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean' && value !== undefined) return false;
  }
  return true;
}

class JsonLogger implements Logger {
  constructor(
    private readonly minLevel: number,
    private readonly write: (line: string) => void,
    private readonly now: () => number,
    /**
     * The fields of each ancestor's child() call, oldest first: merged only
     * when a line is written, so that a child made per transaction or per
     * call costs next to nothing when it never logs (most never do).
     */
    private readonly bound: readonly LogFields[],
  ) {}

  isLevelEnabled(level: LogLevel): boolean {
    return LEVEL_ORDER[level] >= this.minLevel;
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LEVEL_ORDER[level] < this.minLevel) return;
    // Same keys, order and overrides as spreading the bound fields then `fields` after time, level and msg.
    const record: LogFields = { time: new Date(this.now()).toISOString(), level, msg };
    for (const b of this.bound) Object.assign(record, b);
    if (fields !== undefined) Object.assign(record, fields);
    // A replacer takes V8 off its fast path (about 3.4 against 1.4 µs for a registration line): only when a value needs it.
    this.write((onlyPlainValues(record) ? JSON.stringify(record) : JSON.stringify(record, replacer)) + '\n');
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.minLevel, this.write, this.now, [...this.bound, fields]);
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  return new JsonLogger(LEVEL_ORDER[options.level ?? 'info'], write, options.now ?? Date.now, []);
}

/** A logger that keeps its lines, for tests. */
export function createMemoryLogger(level: LogLevel = 'debug'): { logger: Logger; lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger = createLogger({ level, write: (line) => void lines.push(JSON.parse(line) as LogFields) });
  return { logger, lines };
}
