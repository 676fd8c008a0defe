/**
 * Where the media worker script is, in the two ways voix runs:
 *
 * - compiled (`node dist/server.js`): `media-worker.js` sits next to this
 *   module in dist/rtp/ and Node runs it as it is;
 * - from the TypeScript sources (vitest, `tsx bench/…`): there is only
 *   `media-worker.ts`. A worker thread does not inherit the main thread's
 *   TypeScript loader, and on Node 20 neither `--import tsx` in the
 *   worker's execArgv nor module.register() inside the worker applies to
 *   the worker's entry module. tsx's `tsImport()` does, so the worker
 *   starts from a three-line CommonJS bootstrap (eval) that loads tsx's
 *   ESM API and imports the .ts entry through it. tsx is a dev
 *   dependency: only source runs need it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface MediaWorkerLaunch {
  /** First argument of `new Worker`. */
  readonly script: URL | string;
  readonly eval: boolean;
  /** Set when the bootstrap must load the TypeScript entry through tsx (goes in workerData.bootstrap). */
  readonly bootstrap: { readonly tsxApi: string; readonly entry: string } | null;
  /** For logs: the file that runs. */
  readonly entry: string;
}

const TSX_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.bootstrap.tsxApi)
  .then((tsx) => tsx.tsImport(workerData.bootstrap.entry, workerData.bootstrap.entry))
  .catch((err) => setImmediate(() => { throw err; }));
`;

/** How to start the media worker: `override` (a .js or .ts file), else the script next to this module. */
export function locateMediaWorker(override?: URL | string): MediaWorkerLaunch {
  if (override !== undefined) {
    const url = typeof override === 'string' && !override.startsWith('file:') ? pathToFileURL(override) : new URL(override);
    return url.pathname.endsWith('.ts') ? throughTsx(url) : { script: url, eval: false, bootstrap: null, entry: fileURLToPath(url) };
  }
  const compiled = new URL('./media-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return { script: compiled, eval: false, bootstrap: null, entry: fileURLToPath(compiled) };
  const source = new URL('./media-worker.ts', import.meta.url);
  if (existsSync(fileURLToPath(source))) return throughTsx(source);
  throw new Error(`media worker script not found next to ${fileURLToPath(import.meta.url)} (media-worker.js or media-worker.ts)`);
}

function throughTsx(entry: URL): MediaWorkerLaunch {
  let tsxApi: string;
  try {
    tsxApi = import.meta.resolve('tsx/esm/api');
  } catch {
    throw new Error(`running the media worker from ${fileURLToPath(entry)} needs the tsx dev dependency; run the compiled dist/ instead (npm run build)`);
  }
  return { script: TSX_BOOTSTRAP, eval: true, bootstrap: { tsxApi, entry: entry.href }, entry: fileURLToPath(entry) };
}
