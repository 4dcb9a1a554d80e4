/**
 * Where the rings live, and how JS reaches memory the kernel reads.
 *
 * Two modes, one set of views above them:
 * - `"shared"` (default where the kernel takes IORING_SETUP_NO_MMAP, Linux ≥ 6.5):
 *   bun-uring allocates the ring region and the SQE region inside
 *   SharedArrayBuffers it owns, page-aligned inside each buffer, and hands
 *   their addresses to io_uring_setup() in `cq_off.user_addr` / `sq_off.user_addr`;
 *   the kernel pins and maps those pages itself. Atomics on SharedArrayBuffer
 *   views are ordered by the JavaScript memory model, and the buffers can be
 *   posted to a Worker.
 * - `"mmap"` (the classic path, any kernel with IORING_FEAT_SINGLE_MMAP): one
 *   mmap of the SQ+CQ ring region and one of the SQE array, seen through
 *   `toArrayBuffer()`.
 */
import { ptr, toArrayBuffer } from "bun:ffi";
import { mmapShared, munmapRegion } from "../ffi/syscalls.ts";
import { invalidArgument } from "./errors.ts";
import { CQE, PAGE_SIZE, pageAlign, SQE } from "./layout.ts";

export type MemoryMode = "shared" | "mmap";

/** A region of ring memory: a buffer and the page-aligned byte offset where the region starts in it. */
export interface Region {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly byteOffset: number;
  readonly byteLength: number;
  /** The region's address in this process (what the kernel was given, or what mmap returned). */
  readonly address: number;
}

/**
 * The address of an ArrayBufferView's first byte, for handing to the kernel.
 *
 * Touches `.buffer` first: JSC keeps small typed arrays (≤ 1000 elements) in
 * a GC-movable inline store and moves it out the first time `.buffer`,
 * `subarray()` or a DataView touches the array. Taking the address after
 * that first touch means it never changes again for the array's life.
 * An empty view has no storage; its address is 0 (the kernel will not touch it).
 * @throws {TypeError} not an ArrayBufferView; a detached buffer; a resizable or growable buffer.
 */
export function addressOf(view: ArrayBufferView): number {
  if (!ArrayBuffer.isView(view)) {
    throw invalidArgument("buffer", `Expected a TypedArray, Buffer or DataView; got ${describe(view)}.`, "type");
  }
  const buffer = view.buffer as ArrayBuffer & { growable?: boolean };
  // Storage that may move or vanish under the kernel: a detached buffer has none, and a resizable
  // ArrayBuffer or growable SharedArrayBuffer can be resized while the kernel holds the address.
  if (buffer.detached) throw invalidArgument("buffer", "The buffer is detached (transferred or neutered).");
  if (buffer.resizable || buffer.growable) {
    throw invalidArgument("buffer", "A resizable ArrayBuffer or growable SharedArrayBuffer cannot be handed to the kernel: its storage may change size under it. Copy it into a fixed-length buffer.");
  }
  if (view.byteLength === 0) return 0;
  return ptr(view as DataView);
}

/**
 * The address of a typed array this library created and never hands out (encoded paths, scratch
 * structs). No `.buffer` touch: the storage only moves when something touches `.buffer`,
 * `subarray()` or a DataView — and nothing ever will — so the address stays valid, and the
 * comparatively costly materialisation of an ArrayBuffer is skipped (measured: ~13% of a
 * small-file tree copy). Never use it for a caller's buffer.
 */
export function addressOfOwned(view: Uint8Array | Uint32Array | Int32Array): number {
  return view.byteLength === 0 ? 0 : ptr(view);
}

/** Check that `value` is an ArrayBufferView and return it; `name` goes in the error. */
export function asView(value: unknown, name: string): ArrayBufferView {
  if (!ArrayBuffer.isView(value)) {
    throw invalidArgument(name, `Expected a TypedArray, Buffer or DataView; got ${describe(value)}.`, "type");
  }
  return value;
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an instance of ${value.constructor?.name ?? "Object"}`;
  return `type ${typeof value} (${String(value).slice(0, 40)})`;
}

/** A page-aligned region inside a fresh SharedArrayBuffer (over-allocated by one page, then aligned). */
export function allocShared(byteLength: number): Region {
  const len = pageAlign(byteLength);
  const buffer = new SharedArrayBuffer(len + PAGE_SIZE);
  const base = ptr(new Uint8Array(buffer));
  const byteOffset = (PAGE_SIZE - (base % PAGE_SIZE)) % PAGE_SIZE;
  return { buffer, byteOffset, byteLength: len, address: base + byteOffset };
}

/**
 * An upper bound of the ring region the kernel will use (its `rings_size()`):
 * the struct io_rings header (64 bytes on 6.x; 1 KiB is allowed for it), the
 * CQE array, cache-line padding, and the SQ index array unless NO_SQARRAY.
 * After setup, `ring.ts` checks the offsets the kernel returned fit inside.
 */
export function ringRegionBytes(sqEntries: number, cqEntries: number, cqeSize: number, sqArray: boolean): number {
  return pageAlign(1024 + cqEntries * cqeSize + 64 + (sqArray ? sqEntries * 4 : 0));
}

/** Bytes of the SQE array. */
export function sqeRegionBytes(sqEntries: number, sqeSize: number): number {
  return pageAlign(sqEntries * sqeSize);
}

/** mmap one region of the ring fd. Returns -errno on failure. */
export function mapRegion(fd: number, byteLength: number, offset: number): Region | number {
  const addr = mmapShared(byteLength, fd, offset);
  if (addr < 0) return addr;
  const buffer = toArrayBuffer(addr as never, 0, byteLength);
  return { buffer, byteOffset: 0, byteLength, address: addr };
}

/** munmap a region made by mapRegion. Every view of it must be dropped first: touching one after is a SIGSEGV. */
export function unmapRegion(region: Region): void {
  munmapRegion(region.address, region.byteLength);
}

export const SQE_SIZE = SQE.SIZE;
export const CQE_SIZE = CQE.SIZE;
