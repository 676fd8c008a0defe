/**
 * The administration API: read-only JSON over HTTP, for dashboards and
 * scripts, bound to 127.0.0.1 by default and off unless the configuration
 * enables it (`admin.listen`). It asks no password, so it serves nothing
 * secret and changes nothing: the operator drives voix with the CLI.
 *
 *   GET /health                    {"status":"ok"} while voix serves ("overloaded" while it refuses
 *                                  new requests for load, still 200; "stopping" with 503 once SIGTERM came)
 *   GET /metrics                   Prometheus text format, every name prefixed voix_ (voix-metrics.ts)
 *   GET /api/status                the running server's figures as JSON (what `voix status` shows)
 *   GET /api/campaigns             every campaign with its progress and pace
 *   GET /api/campaigns/<name>      one campaign (404 if unknown)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CampaignConfig } from '../config/types.js';
import type { CampaignStore } from '../dialer/campaign-store.js';
import { campaignStatusWithPace } from '../dialer/campaign-status.js';
import type { Logger } from '../log/logger.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics-registry.js';

export type HealthState = 'ok' | 'overloaded' | 'stopping';

export interface AdminApiOptions {
  readonly address: string;
  readonly port: number;
  readonly campaigns: CampaignStore;
  readonly configuredCampaigns: () => readonly CampaignConfig[];
  /** The calendar (the dialer's): pace and next attempt times. */
  readonly now: () => number;
  readonly logger: Logger;
  /** The Prometheus text of /metrics; without it /metrics is 404. */
  readonly metrics?: () => string;
  /** The live figures of /api/status; without it /api/status is 404. */
  readonly status?: () => Record<string, unknown>;
  /** What /health says; "ok" without it. */
  readonly health?: () => HealthState;
}

type Reply = { readonly status: number; readonly body: unknown } | { readonly status: number; readonly text: string; readonly contentType: string };

export class AdminApi {
  private server: http.Server | null = null;

  constructor(private readonly options: AdminApiOptions) {}

  /** Listens; resolves with the bound port (0 in the options picks a free one). */
  async start(): Promise<number> {
    const server = http.createServer((request, response) => {
      let reply: Reply;
      try {
        reply = this.route(request.method ?? 'GET', request.url ?? '/');
      } catch (error) {
        this.options.logger.error('admin api request failed', { url: request.url, error });
        reply = { status: 500, body: { error: 'internal error (see the voix log)' } };
      }
      const [body, contentType] = 'text' in reply ? [reply.text, reply.contentType] : [JSON.stringify(reply.body), 'application/json; charset=utf-8'];
      response.writeHead(reply.status, { 'content-type': contentType, 'cache-control': 'no-store', ...(reply.status === 405 ? { allow: 'GET' } : {}) });
      response.end(body);
    });
    // A dashboard polling every few seconds: short keep-alive, no slow clients holding sockets.
    server.keepAliveTimeout = 5000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.options.logger.info('listening', { transport: 'http', address: this.options.address, port, purpose: 'admin api' });
    return port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private route(method: string, url: string): Reply {
    if (method !== 'GET') return { status: 405, body: { error: 'the administration API is read-only: GET only' } };
    const path = new URL(url, 'http://localhost').pathname;
    if (path === '/health') {
      const state = this.options.health?.() ?? 'ok';
      return { status: state === 'stopping' ? 503 : 200, body: { status: state } };
    }
    const { metrics, status } = this.options;
    if (path === '/metrics' && metrics !== undefined) return { status: 200, text: metrics(), contentType: PROMETHEUS_CONTENT_TYPE };
    if (path === '/api/status' && status !== undefined) return { status: 200, body: status() };
    if (path === '/api/campaigns') return { status: 200, body: this.campaigns() };
    const one = /^\/api\/campaigns\/([^/]+)$/.exec(path);
    if (one !== null) {
      const name = decodeURIComponent(one[1] ?? '');
      const found = this.campaigns().find((c) => c['campaign'] === name);
      return found === undefined ? { status: 404, body: { error: `no campaign named ${JSON.stringify(name)}` } } : { status: 200, body: found };
    }
    return { status: 404, body: { error: `no such resource: ${path}` } };
  }

  private campaigns(): Array<Record<string, unknown>> {
    const { campaigns, configuredCampaigns, now } = this.options;
    const configured = new Set(configuredCampaigns().map((c) => c.name));
    const at = now();
    return campaigns.campaigns().map((c) => campaignStatusWithPace(campaigns, c, configured.has(c.name), at));
  }
}
