// The interface factory: one implementation per Interface.IType (see docs/interfaces.md).
import { DummyInterface } from './dummy.js';
import { FdInterface } from './fd.js';
import { StdioInterface } from './stdio.js';
import { StreamSockInterface } from './stream.js';
import { TapInterface } from './tap.js';
import { UdpInterface } from './udpsock.js';
import { UnixMsgInterface } from './unixmsg.js';
import { VppInterface } from './vpp.js';
import type { InterfaceOptions, L2Interface } from './types.js';

export type { IType, InterfaceEvents, InterfaceOptions, L2Interface, LogFn } from './types.js';
export { ITYPES } from './types.js';

export async function openInterface(o: InterfaceOptions): Promise<L2Interface> {
  switch (o.IType) {
    case 'dummy':
      return new DummyInterface(o);
    case 'stdio':
      return new StdioInterface(o);
    case 'udpsock':
      return UdpInterface.open(o);
    case 'tcpsock':
    case 'unixsock':
      return StreamSockInterface.open({ ...o, IType: o.IType });
    case 'unixgramsock':
    case 'unixpacketsock':
      return UnixMsgInterface.open({ ...o, IType: o.IType });
    case 'fd':
      return FdInterface.open(o);
    case 'tap':
      return TapInterface.open(o);
    case 'vpp':
      return VppInterface.open(o);
    default:
      throw new Error(`unknown IType ${JSON.stringify((o as { IType: unknown }).IType)}`);
  }
}
