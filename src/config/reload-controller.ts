/**
 * A reload as the operator asks for it (SIGHUP, `voix reload`): read the
 * configuration file again; refuse it whole when it has an error, so the
 * running configuration stays; otherwise hand it to the server, which applies
 * what it can (reload-plan.ts). Each attempt is logged and recorded, so the
 * CLI can tell the operator what happened.
 */
import type { Logger } from '../log/logger.js';
import type { Clock } from '../util/clock.js';
import { formatConfigIssue } from './load.js';
import type { ConfigResult, VoixConfig } from './types.js';

/** What the server did with a valid new configuration. */
export interface ReloadOutcome {
  /** The configuration generation now running. */
  readonly generation: number;
  /** Parts changed now (reload-plan.ts). */
  readonly applied: readonly string[];
  /** Changes kept for the next restart, parts that failed to apply. */
  readonly warnings: readonly string[];
}

export interface ReloadTarget {
  reload(next: VoixConfig): ReloadOutcome;
  configGeneration(): number;
}

interface ReloadRecordBase {
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** The generation running after this attempt. */
  readonly generation: number;
  /** The loader's warnings, `file:line:col key: message`. */
  readonly configWarnings: readonly string[];
}

export type ReloadRecord =
  | (ReloadRecordBase & { readonly status: 'applied'; readonly applied: readonly string[]; readonly warnings: readonly string[] })
  | (ReloadRecordBase & { readonly status: 'refused'; readonly errors: readonly string[] });

export interface ConfigReloadControllerOptions {
  readonly configPath: string;
  readonly load: (path: string) => Promise<ConfigResult>;
  readonly target: ReloadTarget;
  /** Where the CLI reads the outcome (runtime state). */
  readonly record: (record: ReloadRecord) => void;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class ConfigReloadController {
  private running: Promise<ReloadRecord> | null = null;
  private queued: Promise<ReloadRecord> | null = null;

  constructor(private readonly options: ConfigReloadControllerOptions) {}

  /**
   * Reloads once. While one reload runs, further requests share a single
   * follow-up run, which reads the file after the running one is done: the
   * last edit is never left unread.
   */
  request(): Promise<ReloadRecord> {
    if (this.running === null) {
      this.running = this.reloadOnce().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    this.queued ??= this.running.then(
      () => {
        this.queued = null;
        return this.request();
      },
      () => {
        this.queued = null;
        return this.request();
      },
    );
    return this.queued;
  }

  private async reloadOnce(): Promise<ReloadRecord> {
    const { configPath, load, target, record, clock, logger } = this.options;
    logger.info('config reload', { file: configPath });
    const loaded = await load(configPath);
    const configWarnings = loaded.warnings.map(formatConfigIssue);
    for (const warning of configWarnings) logger.warn('config warning', { warning });
    let result: ReloadRecord;
    if (!loaded.ok) {
      const errors = loaded.errors.map(formatConfigIssue);
      for (const error of errors) logger.error('config reload refused', { file: configPath, error });
      result = { status: 'refused', at: clock.now(), generation: target.configGeneration(), configWarnings, errors };
    } else {
      try {
        const outcome = target.reload(loaded.config);
        for (const warning of outcome.warnings) logger.warn('config reload warning', { warning });
        logger.info('config reloaded', { file: configPath, generation: outcome.generation, applied: outcome.applied });
        result = { status: 'applied', at: clock.now(), generation: outcome.generation, configWarnings, applied: outcome.applied, warnings: outcome.warnings };
      } catch (error) {
        // A bug, not the operator's file: said as such, with the stack in the log.
        const message = error instanceof Error ? error.message : String(error);
        logger.error('config reload failed', { file: configPath, error });
        result = { status: 'refused', at: clock.now(), generation: target.configGeneration(), configWarnings, errors: [`internal error while applying the configuration (a bug): ${message}`] };
      }
    }
    record(result);
    return result;
  }
}
