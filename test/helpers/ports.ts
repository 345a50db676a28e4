// A loopback port that was free a moment ago (bound to 0, read, closed), for tests that must
// name a port in a config before the process that binds it starts.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A free UDP or TCP port on 127.0.0.1 (racy by nature: another process may take it meanwhile). */
export async function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const p = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    return p;
  }
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const p = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return p;
}
