// The supernode's HTTP servers: the edge API server, and the manage API on the same server (same
// listen value) or a second one, with the route playground and the dashboard mounted on the
// manage server when they are built (docs/supernode.md, "HTTP").
import type { FastifyInstance } from 'fastify';
import { isIP } from 'node:net';
import type { SuperConfig } from '../config/index.js';
import type { DashboardSource } from '../dashboard/plugin.js';
import { makeApp, parseListen, sameListen, type Listen } from '../shared/http.js';
import type { Logger } from '../shared/log.js';
import { registerEdgeApi, registerManageApi } from './api/index.js';
import type { EdgeApi, ManageApi, PasswordCheck } from './api/service.js';

export interface ServerSetup {
  cfg: Pick<SuperConfig, 'HttpTLS' | 'ListenPort_EdgeAPI' | 'ListenPort_ManageAPI'>;
  /** The normalised API_Prefix. */
  prefix: string;
  log: Logger;
  edgeApi: EdgeApi;
  manageApi: ManageApi;
  auth: PasswordCheck;
  dashboard: DashboardSource;
}

/**
 * Creates the servers, registers the route plugins and listens. Each server is pushed onto
 * `apps` as soon as it exists, so the caller can close them when a later step fails. Returns the
 * URLs to dial (loopback for a wildcard bind; manage "" when ListenPort_ManageAPI is empty).
 * Throws naming the config key when a port cannot be bound.
 */
export async function startServers(s: ServerSetup, apps: FastifyInstance[]): Promise<{ edgeUrl: string; manageUrl: string }> {
  const cfg = s.cfg;
  const scheme = cfg.HttpTLS ? 'https' : 'http';
  const onInternal = (e: Error) => s.log.error(`HTTP handler failed: ${e.stack ?? e.message}`);
  const listen = async (app: FastifyInstance, l: Listen, key: string): Promise<string> => {
    let addr: string;
    try {
      if (l.host !== undefined) addr = await app.listen({ port: l.port, host: l.host });
      else {
        try {
          addr = await app.listen({ port: l.port, host: '::' });
        } catch {
          addr = await app.listen({ port: l.port, host: '0.0.0.0' });
        }
      }
    } catch (e) {
      // Name the config key: "EADDRINUSE 0.0.0.0:3756" alone does not say which API it was.
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
      throw new Error(`cannot serve the ${key === 'ListenPort_EdgeAPI' ? 'edge' : 'manage'} API on ${l.host ?? '*'}:${l.port} (${key}): ${why}`);
    }
    const a = app.server.address();
    if (a && typeof a === 'object') {
      const host = a.address === '::' || a.address === '0.0.0.0' ? '127.0.0.1' : a.address;
      return `${scheme}://${isIP(host) === 6 ? `[${host}]` : host}:${a.port}`;
    }
    return addr;
  };
  const edgeApp = makeApp(cfg.HttpTLS, onInternal);
  registerEdgeApi(edgeApp, s.prefix, s.edgeApi);
  apps.push(edgeApp);
  let manageApp: FastifyInstance | undefined;
  const m = cfg.ListenPort_ManageAPI;
  if (m !== '') {
    if (sameListen(m, cfg.ListenPort_EdgeAPI)) manageApp = edgeApp;
    else {
      manageApp = makeApp(cfg.HttpTLS, onInternal);
      apps.push(manageApp);
    }
    registerManageApi(manageApp, s.prefix, s.manageApi, s.auth);
    await mountPlayground(manageApp, s);
    await mountDashboard(manageApp, s);
  }
  const edgeUrl = await listen(edgeApp, parseListen(cfg.ListenPort_EdgeAPI), 'ListenPort_EdgeAPI');
  let manageUrl = '';
  if (manageApp === edgeApp) manageUrl = edgeUrl;
  else if (manageApp) manageUrl = await listen(manageApp, parseListen(m), 'ListenPort_ManageAPI');
  return { edgeUrl, manageUrl };
}

async function mountPlayground(app: FastifyInstance, s: ServerSetup): Promise<void> {
  try {
    const { servePlayground } = await import('../webserve/serve.js');
    await servePlayground(app, `${s.prefix}/playground`);
  } catch (e) {
    s.log.debug(`route playground not mounted: ${(e as Error).message}`);
  }
}

/** The live dashboard at {prefix}/dashboard/ (ts/dashboard/plugin.ts), same auth as the state API. */
async function mountDashboard(app: FastifyInstance, s: ServerSetup): Promise<void> {
  try {
    const { registerDashboard } = await import('../dashboard/plugin.js');
    await registerDashboard(app, s.prefix, s.dashboard);
  } catch (e) {
    s.log.debug(`dashboard not mounted: ${(e as Error).message}`);
  }
}
