/**
 * voix as the benchmarks run it: `node dist/server.js --config <yaml>`
 * (the production entry point), optionally under a taskset prefix, its
 * output in <dir>/voix.log; resolves once it logged "ready".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The server section of a benchmark configuration: UDP on 127.0.0.1:port only, MD5 digest (SIPp 3.6 has no SHA-256). */
export function benchServerYaml(dir: string, port: number): string[] {
  return [
    'server:',
    '  domain: voix.bench',
    '  aliases: [127.0.0.1]',
    `  data_dir: ${dir}/data`,
    '  log_level: info',
    '  listen:',
    `    udp: { address: 127.0.0.1, port: ${port} }`,
    '    tcp: false',
    '    tls: false',
    'auth:',
    '  algorithms: [MD5]',
  ];
}

/** VOIX_NODE_ARGS: extra options for voix's node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it under load). */
export async function startVoixProcess(dir: string, yaml: readonly string[], pin: readonly string[]): Promise<ChildProcess> {
  const config = path.join(dir, 'voix.yaml');
  writeFileSync(config, `${yaml.join('\n')}\n`);
  const nodeArgs = (process.env.VOIX_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const argv = [...pin, process.execPath, ...nodeArgs, path.join(ROOT, 'dist/server.js'), '--config', config];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(path.join(dir, 'voix.log'));
  child.stderr?.pipe(log);
  await new Promise<void>((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString();
      if (buffer.includes('"msg":"ready"')) {
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`voix exited with ${code} before ready:\n${buffer.slice(-2000)}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  child.stdout?.pipe(log);
  return child;
}
