// The manage API's peer route group, registered with prefix `{API_Prefix}/manage/peer`:
// peer/add (AddPeer), peer/del (DelPeer, or the edge's own PrivKey) and peer/update
// (UpdatePeer). The work is ManageApi's (ts/super/manage.ts).
import type { FastifyPluginAsync } from 'fastify';
import { presentedPassword } from '../auth.js';
import { manageRoute, plusHint } from './guard.js';
import { addPeerProps, delPeerProps, text, updatePeerProps } from './manage-schema.js';
import { answer } from './reply.js';
import type { ManageApi, PasswordCheck } from './service.js';

export const managePeerRoutes: FastifyPluginAsync<{ api: ManageApi; auth: PasswordCheck }> = async (app, { api, auth }) => {
  manageRoute(app, auth, {
    url: '/add',
    password: 'AddPeer',
    props: addPeerProps,
    ok: text,
    handler: async (p, req, reply) =>
      answer(reply, await api.addPeer(p, { localAddress: req.socket.localAddress, hostname: req.hostname }, (m) => plusHint(req, m)), 'application/yaml'),
  });
  manageRoute(app, auth, {
    url: '/del',
    password: 'DelPeer',
    props: delPeerProps,
    ok: text,
    privKeyAlternative: true,
    handler: async (p, req, reply) => {
      const byKey = presentedPassword(req.headers.authorization, p.Password) === undefined;
      return answer(reply, await api.delPeer(p, byKey, req.ip, (m) => plusHint(req, m)), 'text/plain');
    },
  });
  manageRoute(app, auth, {
    url: '/update',
    password: 'UpdatePeer',
    props: updatePeerProps,
    ok: text,
    handler: async (p, _req, reply) => answer(reply, await api.updatePeer(p), 'text/plain'),
  });
};
