// A supernode whose HTTP API port is taken says which API and which config key.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { generateKeyPair, parseSuperConfig } from '../ts/config/index.js';
import { Supernode } from '../ts/super/supernode.js';
import { quietLogger } from './helpers/loopback-super.js';

describe('supernode HTTP listen errors', () => {
  let blocker: Server | undefined;
  after(() => blocker?.close());

  for (const key of ['ListenPort_EdgeAPI', 'ListenPort_ManageAPI'] as const) {
    it(`a taken ${key} port is refused naming the API and the key`, async () => {
      blocker = createServer();
      await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', () => r()));
      const port = (blocker.address() as { port: number }).port;
      const cfg = parseSuperConfig(`NodeName: ListenSN\nPrivKeyV4: ${generateKeyPair().privateKey}\nPrivKeyV6: ${generateKeyPair().privateKey}\nDisabledAf: {IPv6: true}\nPeers: []\n`, 's.yaml', () => undefined);
      cfg.ListenPort = 0;
      cfg.DisabledAf.ListenIPv4 = '127.0.0.1';
      cfg.ListenPort_EdgeAPI = key === 'ListenPort_EdgeAPI' ? `127.0.0.1:${port}` : '127.0.0.1:0';
      cfg.ListenPort_ManageAPI = key === 'ListenPort_ManageAPI' ? `127.0.0.1:${port}` : '';
      const sn = new Supernode(cfg, { log: quietLogger('super'), uapi: false });
      const api = key === 'ListenPort_EdgeAPI' ? 'edge' : 'manage';
      await assert.rejects(sn.start(), new RegExp(`cannot serve the ${api} API on 127\\.0\\.0\\.1:${port} \\(${key}\\): address already in use`));
      await sn.stop().catch(() => undefined);
      await new Promise<void>((r) => blocker!.close(() => r()));
      blocker = undefined;
    });
  }
});
