// dummy: for relay-only nodes. Never delivers a frame; writes are accepted and discarded.
import { BaseInterface } from './base.js';
import type { InterfaceOptions } from './types.js';

export class DummyInterface extends BaseInterface {
  constructor(o: InterfaceOptions) {
    super('dummy', o.Name, o.log ?? (() => {}));
  }
  protected started(): void {}
  write(_frame: Uint8Array): boolean {
    return true;
  }
  protected async shutdown(): Promise<void> {}
}
