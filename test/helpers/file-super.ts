// A supernode started from a config file, on loopback with free ports (the file may say 3000):
// what the manage-API tests need to check the file, the running state and the answers together.
import { readFileSync } from 'node:fs';
import { generateKeyPair, parseSuperConfig, type SuperConfig } from '../../ts/config/index.js';
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

/**
 * The first lines of a test supernode's YAML: `name`, a fresh IPv4 key, IPv4 only, port 3000 for
 * UDP and both APIs (startFileSupernode moves them), API_Prefix eg_api. The caller appends the
 * rest (timers, Passwords, Peers).
 */
export function superConfigHead(name: string): string {
  return `NodeName: ${name}
PrivKeyV4: ${generateKeyPair().privateKey}
PrivKeyV6: ""
ListenPort: 3000
ListenPort_EdgeAPI: "3000"
ListenPort_ManageAPI: "3000"
DisabledAf:
  IPv6: true
API_Prefix: eg_api
`;
}
