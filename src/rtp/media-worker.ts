/**
 * Entry point of a media worker thread (started by WorkerMediaEngine):
 * wires the MessagePort to a MediaWorkerHost and says when it is ready.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { MediaWorkerHost } from './media-worker-host.js';
import { isMediaWorkerRequestMessage, type MediaWorkerMessage, type MediaWorkerSettings } from './media-worker-protocol.js';

function readSettings(data: unknown): MediaWorkerSettings {
  const settings = typeof data === 'object' && data !== null && 'settings' in data ? data.settings : undefined;
  if (typeof settings !== 'object' || settings === null) throw new Error('media worker started without workerData.settings');
  const s = settings as Partial<MediaWorkerSettings>;
  if (
    typeof s.workerIndex !== 'number' ||
    typeof s.address !== 'string' ||
    typeof s.portMin !== 'number' ||
    typeof s.portMax !== 'number' ||
    typeof s.connectSockets !== 'boolean' ||
    (s.udpIo !== undefined && s.udpIo !== 'auto' && s.udpIo !== 'native' && s.udpIo !== 'dgram') ||
    (s.srtpCrypto !== undefined && s.srtpCrypto !== 'native' && s.srtpCrypto !== 'typescript') ||
    (s.logLevel !== 'debug' && s.logLevel !== 'info' && s.logLevel !== 'warn' && s.logLevel !== 'error')
  ) {
    throw new Error('media worker settings are incomplete');
  }
  return {
    workerIndex: s.workerIndex,
    address: s.address,
    portMin: s.portMin,
    portMax: s.portMax,
    connectSockets: s.connectSockets,
    logLevel: s.logLevel,
    ...(s.udpIo === undefined ? {} : { udpIo: s.udpIo }),
    ...(s.srtpCrypto === undefined ? {} : { srtpCrypto: s.srtpCrypto }),
    ...(s.playout === undefined ? {} : { playout: s.playout }),
  };
}

const port = parentPort;
if (port === null) throw new Error('media-worker runs in a worker thread started by WorkerMediaEngine');
const post = (message: MediaWorkerMessage): void => port.postMessage(message);
const host = new MediaWorkerHost(
  readSettings(workerData),
  (level, msg, fields) => post({ kind: 'log', level, msg, fields }),
  undefined,
  (event) => post({ kind: 'playout', event }),
  (event) => post({ kind: 'dtmf', event }),
  (event) => post({ kind: 'amd', event }),
);

port.on('message', (message: unknown) => {
  if (!isMediaWorkerRequestMessage(message)) return;
  void host.handle(message.request).then((result) => post({ kind: 'response', id: message.id, result }));
});
post({ kind: 'ready', threadId });
