// The manage API's supernode route group, registered with prefix `{API_Prefix}/manage/super`:
// the state document (ShowState) and super/update (UpdateSuper). The work is ManageApi's
// (ts/super/manage.ts).
import type { FastifyPluginAsync } from 'fastify';
import { manageRoute } from './guard.js';
import { httpStateSchema, text, updateSuperProps } from './manage-schema.js';
import { answer } from './reply.js';
import type { ManageApi, PasswordCheck } from './service.js';

export const manageSuperRoutes: FastifyPluginAsync<{ api: ManageApi; auth: PasswordCheck }> = async (app, { api, auth }) => {
  manageRoute(app, auth, { url: '/state', password: 'ShowState', props: {}, ok: httpStateSchema, handler: async () => api.state() });
  manageRoute(app, auth, {
    url: '/update',
    password: 'UpdateSuper',
    props: updateSuperProps,
    ok: text,
    handler: async (p, _req, reply) => answer(reply, await api.updateSuper(p), 'text/plain'),
  });
};
