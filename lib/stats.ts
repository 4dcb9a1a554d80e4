/**
 * `struct statx` decoded into a node:fs-like Stats object. Kernel-free.
 */
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
  atimeMs = 0;
  mtimeMs = 0;
  ctimeMs = 0;
  birthtimeMs = 0;
  /** Nanosecond timestamps as bigints (for exact copies: utimensat takes ns). */
  atimeNs = 0n;
  mtimeNs = 0n;
  ctimeNs = 0n;
  birthtimeNs = 0n;

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
  const dv = new DataView(buf.buffer, buf.byteOffset, STATX.SIZE);
  const u64 = (o: number) => dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 2 ** 32;
  const ts = (o: number): [number, bigint] => {
    const sec = dv.getBigInt64(o, true);
    const nsec = dv.getUint32(o + 8, true);
    return [Number(sec) * 1000 + nsec / 1e6, sec * 1_000_000_000n + BigInt(nsec)];
  };
  const s = new UringStats();
  s.blksize = dv.getUint32(STATX.stx_blksize, true);
  s.nlink = dv.getUint32(STATX.stx_nlink, true);
  s.uid = dv.getUint32(STATX.stx_uid, true);
  s.gid = dv.getUint32(STATX.stx_gid, true);
  s.mode = dv.getUint16(STATX.stx_mode, true);
  s.ino = u64(STATX.stx_ino);
  s.size = u64(STATX.stx_size);
  s.blocks = u64(STATX.stx_blocks);
  [s.atimeMs, s.atimeNs] = ts(STATX.stx_atime);
  [s.birthtimeMs, s.birthtimeNs] = ts(STATX.stx_btime);
  [s.ctimeMs, s.ctimeNs] = ts(STATX.stx_ctime);
  [s.mtimeMs, s.mtimeNs] = ts(STATX.stx_mtime);
  s.rdev = makedev(dv.getUint32(STATX.stx_rdev_major, true), dv.getUint32(STATX.stx_rdev_minor, true));
  s.dev = makedev(dv.getUint32(STATX.stx_dev_major, true), dv.getUint32(STATX.stx_dev_minor, true));
  return s;
}
