// A supernode started from a config file, on loopback with free ports (the file may say 3000):
// what the manage-API tests need to check the file, the running state and the answers together.
import { readFileSync } from 'node:fs';
import { parseSuperConfig, type SuperConfig } from '../../ts/config/index.js';
import { Logger } from '../../ts/shared/log.js';
import { Supernode } from '../../ts/super/supernode.js';

/**
 * Loads `path`, moves its UDP port and both HTTP APIs to free loopback ports and starts it.
 * `logged` collects its log lines (LogLevel error). A failed start is stopped before the error
 * is rethrown: its open sockets would keep mocha from exiting.
 */
export async function startFileSupernode(path: string, name = 'file-super'): Promise<{ sn: Supernode; cfg: SuperConfig; base: string; logged: string[] }> {
  const cfg = parseSuperConfig(readFileSync(path, 'utf8'), path, () => {});
  cfg.ListenPort = 0;
  cfg.ListenPort_EdgeAPI = '127.0.0.1:0';
  cfg.ListenPort_ManageAPI = '127.0.0.1:0';
  cfg.DisabledAf.ListenIPv4 = '127.0.0.1';
  const logged: string[] = [];
  const log = new Logger(name, { LogLevel: 'error', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false }, false, { write: (s: string) => void logged.push(s) });
  const sn = new Supernode(cfg, { configPath: path, log, uapi: false });
  try {
    await sn.start();
  } catch (e) {
    await sn.stop().catch(() => undefined);
    throw e;
  }
  return { sn, cfg, base: sn.httpAddress() + '/eg_api', logged };
}
