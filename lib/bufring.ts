/**
 * Provided-buffer rings (IORING_REGISTER_PBUF_RING, Linux ≥ 5.19): a ring of
 * buffers the kernel picks from when an SQE has IOSQE_BUFFER_SELECT, so a
 * multishot recv needs no buffer until data arrives. The buffer id comes
 * back in the CQE flags (`flags >>> IORING_CQE_BUFFER_SHIFT`).
 *
 * The ring and the buffers live in memory this object owns (the ring in a
 * page-aligned SharedArrayBuffer region, as the kernel requires); the
 * `IoUring` keeps the object referenced until it is unregistered or the ring
 * closes, so the kernel never picks a buffer the GC has freed.
 */
import { storeRelease16 } from "./barrier.ts";
import { IORING_CQE_BUFFER_SHIFT, IORING_CQE_F_BUFFER } from "./constants.ts";
import { invalidArgument } from "./errors.ts";
import { BUF, BUF_REG, w } from "./layout.ts";
import { addressOf, allocShared, type Region } from "./memory.ts";
import { setU64 } from "./sqe.ts";

/** One registered provided-buffer ring. Mirrors liburing's `struct io_uring_buf_ring` helpers. */
export class BufferRing {
  /** The buffer group id SQEs name in `bufGroup`. */
  readonly bgid: number;
  readonly entries: number;
  readonly bufferSize: number;
  /** All buffers, back to back: buffer `bid` is bytes [bid × bufferSize, (bid + 1) × bufferSize). */
  readonly data: Uint8Array;
  /** @internal the ring region */
  readonly region: Region;
  readonly #u32: Uint32Array;
  readonly #u16: Uint16Array;
  readonly #mask: number;
  readonly #dataAddr: number;
  #tail = 0;

  /** IOU_PBUF_RING_* flags it was registered with (IOU_PBUF_RING_INC: incremental consumption). */
  readonly flags: number;

  constructor(bgid: number, entries: number, bufferSize: number, flags = 0) {
    if (!Number.isInteger(entries) || entries < 1 || entries > 32768 || (entries & (entries - 1)) !== 0) {
      throw invalidArgument("entries", `Expected a power of two from 1 to 32768; got ${entries}.`, "range");
    }
    if (!Number.isInteger(bufferSize) || bufferSize < 1 || bufferSize > 0xffffffff) {
      throw invalidArgument("bufferSize", `Expected an integer from 1 to 2^32-1; got ${bufferSize}.`, "range");
    }
    if (!Number.isInteger(bgid) || bgid < 0 || bgid > 0xffff) {
      throw invalidArgument("bgid", `Expected an integer from 0 to 65535; got ${bgid}.`, "range");
    }
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff) {
      throw invalidArgument("flags", `Expected IOU_PBUF_RING_* bits (a u16); got ${flags}.`, "range");
    }
    this.flags = flags;
    this.bgid = bgid;
    this.entries = entries;
    this.bufferSize = bufferSize;
    this.#mask = entries - 1;
    this.region = allocShared(entries * BUF.SIZE);
    this.#u32 = new Uint32Array(this.region.buffer, this.region.byteOffset, (entries * BUF.SIZE) >>> 2);
    this.#u16 = new Uint16Array(this.region.buffer, this.region.byteOffset, (entries * BUF.SIZE) >>> 1);
    this.data = new Uint8Array(entries * bufferSize);
    this.#dataAddr = addressOf(this.data);
    for (let bid = 0; bid < entries; bid++) this.add(bid, bid);
    this.advance(entries);
  }

  /** The struct io_uring_buf_reg for IORING_REGISTER_PBUF_RING. */
  registration(): Uint32Array {
    const reg = new Uint32Array(w(BUF_REG.SIZE));
    setU64(reg, w(BUF_REG.ring_addr), this.region.address);
    reg[w(BUF_REG.ring_entries)] = this.entries;
    reg[w(BUF_REG.bgid)] = (this.bgid | (this.flags << 16)) >>> 0; // bgid u16, flags u16
    return reg;
  }

  /** Put buffer `bid` in the slot `offset` places after the tail. Mirrors io_uring_buf_ring_add(). */
  add(bid: number, offset = 0): void {
    const slot = ((this.#tail + offset) & this.#mask) * w(BUF.SIZE);
    setU64(this.#u32, slot + w(BUF.addr), this.#dataAddr + bid * this.bufferSize);
    this.#u32[slot + w(BUF.len)] = this.bufferSize;
    // bid (u16) at byte 12; leave bytes 14–15 alone: in entry 0 they are the ring's tail
    this.#u16[slot * 2 + BUF.bid / 2] = bid;
  }

  /** Make `count` added buffers visible to the kernel: one release store of the tail. Mirrors io_uring_buf_ring_advance(). */
  advance(count: number): void {
    this.#tail = (this.#tail + count) & 0xffff;
    storeRelease16(this.#u16, BUF.RING_TAIL / 2, this.#tail);
  }

  /** Give buffer `bid` back to the kernel once its data has been consumed. */
  recycle(bid: number): void {
    this.add(bid, 0);
    this.advance(1);
  }

  /** The buffer id a CQE used, or -1 if it carries none. */
  static bufferId(cqeFlags: number): number {
    return cqeFlags & IORING_CQE_F_BUFFER ? cqeFlags >>> IORING_CQE_BUFFER_SHIFT : -1;
  }

  /** The `len` bytes buffer `bid` holds (a view: copy it before recycling the buffer). */
  view(bid: number, len: number): Uint8Array {
    return this.data.subarray(bid * this.bufferSize, bid * this.bufferSize + len);
  }

  /** The id of the buffer a `view()` lies in. */
  idOf(view: Uint8Array): number {
    return Math.floor((view.byteOffset - this.data.byteOffset) / this.bufferSize);
  }
}

