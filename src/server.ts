#!/usr/bin/env node
/**
 * `node dist/server.js --config FILE`: loads and checks the configuration,
 * starts voix, and stops it cleanly on SIGTERM/SIGINT. A configuration error
 * is a user error (exit 2, each problem with file, line and key); anything
 * else that stops startup is reported with its stack (exit 1).
 */
import { VoixServer } from './app.js';
import { createLogger } from './log/logger.js';
import { VERSION, loadConfigReporting, parseCommonArgs } from './cli/args.js';

const USAGE = `Usage: node dist/server.js [--config FILE]

Starts the voix SIP server. FILE defaults to $VOIX_CONFIG or /etc/voix/voix.yaml.
`;

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
  const loaded = await loadConfigReporting(args.configPath);
  if ('errors' in loaded) {
    process.stderr.write(`voix did not start: ${loaded.errors} error(s) in ${args.configPath}\n`);
    return 2;
  }
  const logger = createLogger({ level: loaded.config.server.logLevel });
  logger.info('starting', { version: VERSION, config: args.configPath, pid: process.pid });
  const server = await VoixServer.start(loaded.config, logger);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info('stopping', { signal });
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.stop();
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
