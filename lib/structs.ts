/**
 * Kernel structs the raw tier hands to the kernel by address: iovec arrays
 * and timespecs. Each keeps its backing memory and knows its address; keep
 * the object referenced until the CQE of every operation that points at it.
 */
import { invalidArgument } from "./errors.ts";
import { IOVEC, TIMESPEC, w } from "./layout.ts";
import { addressOf, addressOfOwned, asView } from "./memory.ts";
import { setU64 } from "./sqe.ts";

/**
 * An iovec array for readv/writev: the buffers and the `struct iovec[]` the
 * kernel reads, kept together. Keep the IoVecs referenced until the CQE.
 */
export class IoVecs {
  readonly buffers: readonly ArrayBufferView[];
  /** @internal the struct iovec[] */
  readonly table: Uint32Array;
  readonly address: number;
  constructor(buffers: ArrayBufferView[]) {
    if (!Array.isArray(buffers)) throw invalidArgument("buffers", "Expected an array of ArrayBufferViews.", "type");
    this.buffers = buffers.slice();
    this.table = new Uint32Array(Math.max(1, buffers.length) * w(IOVEC.SIZE));
    buffers.forEach((b, k) => {
      const v = asView(b, `buffers[${k}]`);
      setU64(this.table, k * 4, addressOf(v));
      setU64(this.table, k * 4 + 2, v.byteLength);
    });
    this.address = addressOf(this.table);
  }
  get length(): number {
    return this.buffers.length;
  }
  /** Total bytes over all buffers. */
  get byteLength(): number {
    let n = 0;
    for (const b of this.buffers) n += b.byteLength;
    return n;
  }
}

/** A struct __kernel_timespec for timeouts. Keep it referenced until the timeout's CQE. */
export class Timespec {
  /** @internal */
  readonly words = new Uint32Array(w(TIMESPEC.SIZE));
  readonly address: number;
  constructor(ms = 0) {
    this.address = addressOfOwned(this.words); // ours, never exposed as a buffer
    this.set(ms);
  }
  /** Set from milliseconds (fractions allowed: 0.5 = 500 µs). */
  set(ms: number): this {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw invalidArgument("ms", `Expected a finite number ≥ 0; got ${ms}.`, "range");
    const ns = Math.round(ms * 1e6);
    setU64(this.words, w(TIMESPEC.tv_sec), Math.floor(ns / 1e9));
    setU64(this.words, w(TIMESPEC.tv_nsec), ns % 1e9);
    return this;
  }
}
