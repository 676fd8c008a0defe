#!/usr/bin/env node
/**
 * `node dist/server.js --config FILE`: loads and checks the configuration,
 * starts voix, and stops it cleanly on SIGTERM/SIGINT within
 * server.shutdown_grace (calls ended with BYE, their records written; a
 * second signal, or a stop that overruns the grace, exits at once, code 1). SIGHUP reads the same
 * file again and applies it (`voix reload`); an invalid file is refused and
 * the running configuration stays. The pid, configuration generation and the
 * last reload's outcome are kept in the database (runtime_state) for the
 * CLI. SIGUSR2 re-reads the bans table and lifts the bans deleted from it
 * (`voix unban`). A configuration error
 * is a user error (exit 2, each problem with file, line and key); anything
 * else that stops startup is reported with its stack (exit 1).
 */
import path from 'node:path';
import { VoixServer } from './app.js';
import { loadConfigWithPrompts } from './config/load-with-prompts.js';
import { ConfigReloadController } from './config/reload-controller.js';
import { openDatabase } from './store/database.js';
import { RuntimeStateStore } from './store/runtime-state-store.js';
import { SystemClock } from './util/clock.js';
import { processStartTime } from './util/process-identity.js';
import { createLogger } from './log/logger.js';
import { VERSION, loadConfigAndPromptsReporting, parseCommonArgs } from './cli/args.js';

const TRUNK_STATUS_INTERVAL_MS = 5000;

const USAGE = `Usage: node dist/server.js [--config FILE]

Starts the voix SIP server. FILE defaults to $VOIX_CONFIG or /etc/voix/voix.yaml.
`;

/**
 * VOIX_CALENDAR_START=<ISO 8601 instant>: time conditions see that instant at
 * start-up, then time runs on as usual. A test hook (the end-to-end cases
 * check opening hours on a chosen day), logged as a warning so that nobody
 * runs a production server with it unknowingly.
 */
function calendarClock(start: string | undefined, logger: ReturnType<typeof createLogger>): { calendarNow?: () => number } {
  if (start === undefined || start === '') return {};
  const at = Date.parse(start);
  if (Number.isNaN(at)) {
    logger.warn('VOIX_CALENDAR_START ignored: not an ISO 8601 instant', { value: start });
    return {};
  }
  const offset = at - Date.now();
  logger.warn('calendar clock shifted for time conditions (test hook)', { start: new Date(at).toISOString() });
  return { calendarNow: () => Date.now() + offset };
}

async function main(argv: string[]): Promise<number> {
  const args = parseCommonArgs(argv);
  if (args.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.kind === 'version') {
    process.stdout.write(`voix ${VERSION}\n`);
    return 0;
  }
  if (args.kind === 'error') {
    process.stderr.write(`${args.message}\n\n${USAGE}`);
    return 2;
  }
  // Until voix is up, a SIGHUP would otherwise end the process (Node's default): it is ignored instead.
  let onHangup: () => void = () => undefined;
  const hangup = () => onHangup();
  process.on('SIGHUP', hangup);
  // The same for SIGUSR2 (`voix unban`), whose default would end the process too.
  let onUser2: () => void = () => undefined;
  process.on('SIGUSR2', () => onUser2());
  const loaded = await loadConfigAndPromptsReporting(args.configPath);
  if ('errors' in loaded) {
    process.stderr.write(`voix did not start: ${loaded.errors} error(s) in ${args.configPath}\n`);
    return 2;
  }
  const logger = createLogger({ level: loaded.config.server.logLevel });
  logger.info('starting', { version: VERSION, config: args.configPath, pid: process.pid });
  const server = await VoixServer.start(loaded.config, logger, new SystemClock(), { ...calendarClock(process.env['VOIX_CALENDAR_START'], logger), prompts: loaded.prompts, configDir: path.dirname(path.resolve(args.configPath)) });
  const clock = new SystemClock();
  const stateDb = openDatabase(loaded.config.server.dataDir);
  server.adoptDatabaseConnection(stateDb);
  const state = new RuntimeStateStore(stateDb);
  const configFile = path.resolve(args.configPath);
  state.recordStart({ pid: process.pid, processStart: processStartTime('self'), version: VERSION, startedAt: clock.now(), configFile, generation: server.configGeneration() });
  const reloader = new ConfigReloadController({
    configPath: configFile,
    // A new configuration is valid with its prompts only; they reach the media workers before the configuration applies.
    load: async (file) => {
      const next = await loadConfigWithPrompts(file);
      if (next.ok) await server.prompts.load(next.prompts);
      return next;
    },
    target: server,
    record: (record) => state.recordReload(record),
    clock,
    logger,
  });
  // `voix status` shows the trunks' registrations: refreshed here, cheaply, every few seconds.
  const writeTrunks = () => state.recordTrunks(server.trunks.status());
  writeTrunks();
  const trunkTimer = setInterval(writeTrunks, TRUNK_STATUS_INTERVAL_MS);
  trunkTimer.unref();
  onHangup = () => {
    logger.info('reload requested', { signal: 'SIGHUP' });
    reloader.request().catch((error: unknown) => logger.error('config reload failed', { error }));
  };
  // `voix unban` deletes the ban's row, then sends SIGUSR2: the bans whose rows are gone are lifted.
  onUser2 = () => {
    try {
      const lifted = server.syncBans();
      logger.info('bans synced', { signal: 'SIGUSR2', lifted });
    } catch (error) {
      logger.error('bans sync failed', { error });
    }
    state.recordBanSync();
  };

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const graceSeconds = server.runtime.current().server.shutdownGraceSeconds;
  logger.info('stopping', { signal, graceSeconds });
  // A second signal (Ctrl-C twice) or a stop that overruns its grace ends the process at once: systemd must not have to kill it.
  const now = (reason: string, fields: Record<string, unknown>) => {
    logger.error(reason, fields);
    process.exit(1);
  };
  const again = (second: NodeJS.Signals) => now('stopping at once: second signal', { signal: second });
  process.on('SIGTERM', again);
  process.on('SIGINT', again);
  // server.stop() keeps its own margin inside the grace: this is only the backstop for a stop that hangs.
  const overrun = setTimeout(() => now('stopping at once: shutdown grace exceeded', { graceSeconds }), graceSeconds * 1000);
  onHangup = () => logger.info('reload ignored: stopping', { signal: 'SIGHUP' });
  onUser2 = () => logger.info('bans sync ignored: stopping', { signal: 'SIGUSR2' });
  clearInterval(trunkTimer);
  await server.stop(graceSeconds * 1000);
  clearTimeout(overrun);
  writeTrunks();
  state.recordStop(clock.now());
  stateDb.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      process.stderr.write(`voix did not start: ${e.message}\n(another server may use this port, or the port needs privileges)\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`voix stopped on an internal error (a bug): ${e.stack ?? e.message}\n`);
    process.exitCode = 1;
  },
);
