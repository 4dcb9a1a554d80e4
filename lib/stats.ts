/**
 * `struct statx` decoded into a node:fs-like Stats object. Kernel-free.
 */
import { invalidArgument } from "./errors.ts";
import { STATX } from "./layout.ts";

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** File metadata from statx(2), shaped like node:fs `Stats` (numbers, with `*Ms` times and Dates). */
export class UringStats {
  dev = 0;
  ino = 0;
  mode = 0;
  nlink = 0;
  uid = 0;
  gid = 0;
  rdev = 0;
  size = 0;
  blksize = 0;
  blocks = 0;
  /** Timestamps as seconds + nanoseconds, exactly as statx returned them (for exact copies). */
  atimeSec = 0;
  atimeNsec = 0;
  mtimeSec = 0;
  mtimeNsec = 0;
  ctimeSec = 0;
  ctimeNsec = 0;
  birthtimeSec = 0;
  birthtimeNsec = 0;

  get atimeMs(): number {
    return this.atimeSec * 1000 + this.atimeNsec / 1e6;
  }
  get mtimeMs(): number {
    return this.mtimeSec * 1000 + this.mtimeNsec / 1e6;
  }
  get ctimeMs(): number {
    return this.ctimeSec * 1000 + this.ctimeNsec / 1e6;
  }
  get birthtimeMs(): number {
    return this.birthtimeSec * 1000 + this.birthtimeNsec / 1e6;
  }
  /** Nanosecond timestamps as bigints, like node's `{ bigint: true }` stats' `*Ns`. */
  get atimeNs(): bigint {
    return BigInt(this.atimeSec) * 1_000_000_000n + BigInt(this.atimeNsec);
  }
  get mtimeNs(): bigint {
    return BigInt(this.mtimeSec) * 1_000_000_000n + BigInt(this.mtimeNsec);
  }
  get ctimeNs(): bigint {
    return BigInt(this.ctimeSec) * 1_000_000_000n + BigInt(this.ctimeNsec);
  }
  get birthtimeNs(): bigint {
    return BigInt(this.birthtimeSec) * 1_000_000_000n + BigInt(this.birthtimeNsec);
  }

  get atime(): Date {
    return new Date(this.atimeMs);
  }
  get mtime(): Date {
    return new Date(this.mtimeMs);
  }
  get ctime(): Date {
    return new Date(this.ctimeMs);
  }
  get birthtime(): Date {
    return new Date(this.birthtimeMs);
  }
  isFile(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
  isFIFO(): boolean {
    return (this.mode & S_IFMT) === S_IFIFO;
  }
  isSocket(): boolean {
    return (this.mode & S_IFMT) === S_IFSOCK;
  }
  isCharacterDevice(): boolean {
    return (this.mode & S_IFMT) === S_IFCHR;
  }
  isBlockDevice(): boolean {
    return (this.mode & S_IFMT) === S_IFBLK;
  }
}

/** Linux's makedev(): how node reports dev/rdev from major/minor. */
function makedev(major: number, minor: number): number {
  return (major & 0xfff) * 256 + (minor & 0xff) + (minor & ~0xff) * 4096 + (major & ~0xfff) * 2 ** 32;
}

/** Decode a 256-byte statx buffer. */
export function parseStatx(buf: Uint8Array): UringStats {
  if (!(buf instanceof Uint8Array) || buf.byteLength < STATX.SIZE) {
    throw invalidArgument("buf", `Expected a Uint8Array of at least ${STATX.SIZE} bytes (a struct statx).`, buf instanceof Uint8Array ? "range" : "type");
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, STATX.SIZE);
  const u64 = (o: number) => dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 2 ** 32;
  // tv_sec is an s64: exact as a number for any date within ±285 million years
  const sec = (o: number) => dv.getInt32(o + 4, true) * 2 ** 32 + dv.getUint32(o, true);
  const s = new UringStats();
  s.blksize = dv.getUint32(STATX.stx_blksize, true);
  s.nlink = dv.getUint32(STATX.stx_nlink, true);
  s.uid = dv.getUint32(STATX.stx_uid, true);
  s.gid = dv.getUint32(STATX.stx_gid, true);
  s.mode = dv.getUint16(STATX.stx_mode, true);
  s.ino = u64(STATX.stx_ino);
  s.size = u64(STATX.stx_size);
  s.blocks = u64(STATX.stx_blocks);
  s.atimeSec = sec(STATX.stx_atime);
  s.atimeNsec = dv.getUint32(STATX.stx_atime + 8, true);
  s.birthtimeSec = sec(STATX.stx_btime);
  s.birthtimeNsec = dv.getUint32(STATX.stx_btime + 8, true);
  s.ctimeSec = sec(STATX.stx_ctime);
  s.ctimeNsec = dv.getUint32(STATX.stx_ctime + 8, true);
  s.mtimeSec = sec(STATX.stx_mtime);
  s.mtimeNsec = dv.getUint32(STATX.stx_mtime + 8, true);
  s.rdev = makedev(dv.getUint32(STATX.stx_rdev_major, true), dv.getUint32(STATX.stx_rdev_minor, true));
  s.dev = makedev(dv.getUint32(STATX.stx_dev_major, true), dv.getUint32(STATX.stx_dev_minor, true));
  return s;
}
