// The test side's own reader of u16-length-prefixed frames: deliberately not ts/itype/framing.ts,
// so the tests do not check the code under test against itself.
export class Unframer {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, out: Buffer[]): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let off = 0;
    while (off + 2 <= this.buf.length) {
      const len = this.buf.readUInt16BE(off);
      if (off + 2 + len > this.buf.length) break;
      out.push(Buffer.from(this.buf.subarray(off + 2, off + 2 + len)));
      off += 2 + len;
    }
    this.buf = Buffer.from(this.buf.subarray(off));
  }
}
