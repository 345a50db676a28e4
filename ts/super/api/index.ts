// The supernode's HTTP API as fastify plugins, one per route group, each registered under its
// prefix below API_Prefix: `/edge` (edge API, docs/control.md), `/manage/super` and
// `/manage/peer` (manage API, docs/supernode.md). Each handler calls a narrow service
// (service.ts); the server-wide plumbing (limits, parsers, error bodies) is ts/shared/http.ts.
import type { FastifyInstance } from 'fastify';
import { edgeRoutes } from './edge.js';
import { managePeerRoutes } from './manage-peer.js';
import { manageSuperRoutes } from './manage-super.js';
import type { EdgeApi, ManageApi, PasswordCheck } from './service.js';

/** The edge API on `app` under `{prefix}/edge`; `prefix` is the normalised API_Prefix. */
export function registerEdgeApi(app: FastifyInstance, prefix: string, api: EdgeApi): void {
  void app.register(edgeRoutes, { prefix: `${prefix}/edge`, api });
}

/** The manage API on `app` under `{prefix}/manage/super` and `{prefix}/manage/peer`. */
export function registerManageApi(app: FastifyInstance, prefix: string, api: ManageApi, auth: PasswordCheck): void {
  void app.register(manageSuperRoutes, { prefix: `${prefix}/manage/super`, api, auth });
  void app.register(managePeerRoutes, { prefix: `${prefix}/manage/peer`, api, auth });
}
