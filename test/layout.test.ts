// Kernel-free: pins lib/layout.ts against the io_uring ABI two ways —
// (a) literal numbers copied from include/uapi/linux/io_uring.h (Linux 6.18; the
//     structs below have not moved since they appeared), <linux/stat.h>,
//     <linux/time_types.h> and <sys/uio.h> on x86_64/aarch64;
// (b) where a C compiler exists, test/bench/c/offsets.c built against the system's
//     kernel headers, its sizeof/offsetof output compared line by line.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as L from "../lib/layout.ts";

/** The layout tables by the names test/bench/c/offsets.c prints. */
const TABLES: Record<string, Record<string, number>> = {
  SQE: L.SQE,
  CQE: L.CQE,
  SQ_OFF: L.SQ_OFF,
  CQ_OFF: L.CQ_OFF,
  PARAMS: L.PARAMS,
  PROBE: L.PROBE,
  IOVEC: L.IOVEC,
  TIMESPEC: L.TIMESPEC,
  GETEVENTS_ARG: L.GETEVENTS_ARG,
  RSRC_REGISTER: L.RSRC_REGISTER,
  RSRC_UPDATE: L.RSRC_UPDATE,
  STATX: L.STATX,
};

/** Lines whose table is another C spelling of one of the TABLES (a union member, a twin struct). */
const ALIASES: Record<string, string> = { SQE_ALIAS: "SQE", RSRC_UPDATE_ALIAS: "RSRC_UPDATE" };

describe("literal ABI numbers (include/uapi/linux/io_uring.h)", () => {
  test("io_uring_sqe is 64 bytes at the kernel's offsets", () => {
    expect({ ...L.SQE }).toEqual({
      SIZE: 64,
      opcode: 0,
      flags: 1,
      ioprio: 2,
      fd: 4,
      off: 8,
      addr: 16,
      len: 24,
      op_flags: 28,
      user_data: 32,
      buf_index: 40,
      personality: 42,
      file_index: 44,
      addr3: 48,
      pad2: 56,
    });
  });

  test("io_uring_cqe is 16 bytes; big_cqe follows at 16 with CQE32", () => {
    expect({ ...L.CQE }).toEqual({ SIZE: 16, user_data: 0, res: 8, flags: 12, big_cqe: 16 });
  });

  test("io_sqring_offsets is 40 bytes", () => {
    expect({ ...L.SQ_OFF }).toEqual({
      SIZE: 40,
      head: 0,
      tail: 4,
      ring_mask: 8,
      ring_entries: 12,
      flags: 16,
      dropped: 20,
      array: 24,
      resv1: 28,
      user_addr: 32,
    });
  });

  test("io_cqring_offsets is 40 bytes", () => {
    expect({ ...L.CQ_OFF }).toEqual({
      SIZE: 40,
      head: 0,
      tail: 4,
      ring_mask: 8,
      ring_entries: 12,
      overflow: 16,
      cqes: 20,
      flags: 24,
      resv1: 28,
      user_addr: 32,
    });
  });

  test("io_uring_params is 120 bytes, sq_off at 40 and cq_off at 80", () => {
    expect({ ...L.PARAMS }).toEqual({
      SIZE: 120,
      sq_entries: 0,
      cq_entries: 4,
      flags: 8,
      sq_thread_cpu: 12,
      sq_thread_idle: 16,
      features: 20,
      wq_fd: 24,
      resv: 28,
      sq_off: 40,
      cq_off: 80,
    });
    // The nested structs fill the params exactly: 40 + 40 + 40.
    expect(L.PARAMS.sq_off + L.SQ_OFF.SIZE).toBe(L.PARAMS.cq_off);
    expect(L.PARAMS.cq_off + L.CQ_OFF.SIZE).toBe(L.PARAMS.SIZE);
    // resv is __u32[3], ending where sq_off begins.
    expect(L.PARAMS.resv + 3 * 4).toBe(L.PARAMS.sq_off);
  });

  test("io_uring_probe: 16-byte header, 8-byte io_uring_probe_op entries", () => {
    expect({ ...L.PROBE }).toEqual({ SIZE: 16, last_op: 0, ops_len: 1, ops: 16, OP_SIZE: 8, op_op: 0, op_flags: 2 });
  });

  test("iovec and __kernel_timespec are 16 bytes", () => {
    expect({ ...L.IOVEC }).toEqual({ SIZE: 16, iov_base: 0, iov_len: 8 });
    expect({ ...L.TIMESPEC }).toEqual({ SIZE: 16, tv_sec: 0, tv_nsec: 8 });
  });

  test("io_uring_getevents_arg is 24 bytes (min_wait_usec was pad before 6.12)", () => {
    expect({ ...L.GETEVENTS_ARG }).toEqual({ SIZE: 24, sigmask: 0, sigmask_sz: 8, min_wait_usec: 12, ts: 16 });
  });

  test("io_uring_rsrc_register is 32 bytes, io_uring_rsrc_update 16", () => {
    expect({ ...L.RSRC_REGISTER }).toEqual({ SIZE: 32, nr: 0, flags: 4, resv2: 8, data: 16, tags: 24 });
    expect({ ...L.RSRC_UPDATE }).toEqual({ SIZE: 16, offset: 0, resv: 4, data: 8 });
  });

  test("statx is 256 bytes at <linux/stat.h>'s offsets", () => {
    expect({ ...L.STATX }).toEqual({
      SIZE: 256,
      stx_mask: 0,
      stx_blksize: 4,
      stx_attributes: 8,
      stx_nlink: 16,
      stx_uid: 20,
      stx_gid: 24,
      stx_mode: 28,
      stx_ino: 32,
      stx_size: 40,
      stx_blocks: 48,
      stx_attributes_mask: 56,
      stx_atime: 64,
      stx_btime: 80,
      stx_ctime: 96,
      stx_mtime: 112,
      stx_rdev_major: 128,
      stx_rdev_minor: 132,
      stx_dev_major: 136,
      stx_dev_minor: 140,
    });
  });

  test("every field is naturally aligned, so u32/u64 word views reach it", () => {
    // 64-bit fields the library reads as two u32 halves must sit on 8-byte boundaries.
    const u64Fields: [string, number][] = [
      ["SQE.off", L.SQE.off],
      ["SQE.addr", L.SQE.addr],
      ["SQE.user_data", L.SQE.user_data],
      ["SQE.addr3", L.SQE.addr3],
      ["SQE.pad2", L.SQE.pad2],
      ["CQE.user_data", L.CQE.user_data],
      ["SQ_OFF.user_addr", L.SQ_OFF.user_addr],
      ["CQ_OFF.user_addr", L.CQ_OFF.user_addr],
      ["GETEVENTS_ARG.sigmask", L.GETEVENTS_ARG.sigmask],
      ["GETEVENTS_ARG.ts", L.GETEVENTS_ARG.ts],
      ["RSRC_REGISTER.data", L.RSRC_REGISTER.data],
      ["RSRC_REGISTER.tags", L.RSRC_REGISTER.tags],
      ["RSRC_UPDATE.data", L.RSRC_UPDATE.data],
      ["STATX.stx_size", L.STATX.stx_size],
    ];
    for (const [name, off] of u64Fields) expect(off % 8, name).toBe(0);
    for (const [table, fields] of Object.entries(TABLES)) {
      expect(fields.SIZE! % 4, `${table}.SIZE`).toBe(0);
    }
  });
});

describe("word indexes and size helpers", () => {
  test("w() is the u32 index of a byte offset", () => {
    expect(L.w(0)).toBe(0);
    expect(L.w(3)).toBe(0);
    expect(L.w(4)).toBe(1);
    expect(L.w(L.SQE.user_data)).toBe(8);
    expect(L.w(L.SQE.addr3)).toBe(12);
    expect(L.w(L.SQE.SIZE)).toBe(16);
    expect(L.w(L.CQE.res)).toBe(2);
    expect(L.w(L.PARAMS.cq_off + L.CQ_OFF.user_addr)).toBe(28);
    // A byte offset ≥ 2^31 still maps to a positive index (>>> not >>).
    expect(L.w(0x80000000)).toBe(0x20000000);
  });

  test("PAGE_SIZE and pageAlign() round up to whole pages", () => {
    expect(L.PAGE_SIZE).toBe(4096);
    expect(L.pageAlign(0)).toBe(0);
    expect(L.pageAlign(1)).toBe(4096);
    expect(L.pageAlign(4095)).toBe(4096);
    expect(L.pageAlign(4096)).toBe(4096);
    expect(L.pageAlign(4097)).toBe(8192);
    expect(L.pageAlign(64 * 32768)).toBe(64 * 32768);
    expect(L.pageAlign(2 ** 32 + 1)).toBe(2 ** 32 + 4096);
  });

  test("roundupPow2() is the smallest power of two ≥ n", () => {
    const cases: [number, number][] = [
      [1, 1],
      [2, 2],
      [3, 4],
      [4, 4],
      [5, 8],
      [7, 8],
      [8, 8],
      [9, 16],
      [100, 128],
      [4095, 4096],
      [4096, 4096],
      [4097, 8192],
      [32768, 32768],
      [32769, 65536],
      [2 ** 31 + 1, 2 ** 32],
    ];
    for (const [n, p] of cases) expect(L.roundupPow2(n), `roundupPow2(${n})`).toBe(p);
    for (let n = 1; n <= 5000; n++) {
      const p = L.roundupPow2(n);
      if (!(p >= n && p / 2 < n && Number.isInteger(Math.log2(p)))) {
        throw new Error(`roundupPow2(${n}) = ${p} is not the smallest power of two ≥ ${n}`);
      }
    }
  });
});

// ---------------------------------------------------------------------------
// (b) the same numbers from the system's C headers
// ---------------------------------------------------------------------------

const cc = Bun.which("cc");
const cSource = join(import.meta.dir, "bench", "c", "offsets.c");
if (!cc) console.warn("layout.test.ts: no `cc` on PATH; the C offset check is skipped.");

/** Build and run test/bench/c/offsets.c in a temp dir; return its "TABLE.key value" lines. */
function runOffsetsProgram(compiler: string): [string, number][] {
  const dir = mkdtempSync(join(tmpdir(), "bun-uring-offsets-"));
  try {
    const exe = join(dir, "offsets");
    const build = Bun.spawnSync([compiler, "-std=gnu11", "-Wall", "-Werror", "-o", exe, cSource], { stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`cc failed (exit ${build.exitCode}):\n${build.stderr.toString()}`);
    const run = Bun.spawnSync([exe], { stdout: "pipe", stderr: "pipe" });
    if (run.exitCode !== 0) throw new Error(`offsets failed (exit ${run.exitCode}):\n${run.stderr.toString()}`);
    return run.stdout
      .toString()
      .trim()
      .split("\n")
      .map((line) => {
        const m = /^([A-Z_]+\.[A-Za-z_0-9]+) (\d+)$/.exec(line);
        if (!m) throw new Error(`unexpected line from offsets.c: ${JSON.stringify(line)}`);
        return [m[1]!, Number(m[2])];
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("C headers agree (test/bench/c/offsets.c)", () => {
  const cTest = cc ? test : test.skip;
  const name = (s: string) => (cc ? s : `${s} [skipped: no C compiler (cc) on PATH]`);
  let lines: [string, number][] | undefined;
  const get = (): [string, number][] => (lines ??= runOffsetsProgram(cc!));

  cTest(name("every sizeof/offsetof the C compiler prints matches lib/layout.ts"), () => {
    const out = get();
    expect(out.length).toBeGreaterThan(100);
    const mismatches: string[] = [];
    for (const [key, value] of out) {
      const [table, field] = key.split(".") as [string, string];
      if (table === "STATX_TIMESTAMP") continue; // checked below: lib/layout.ts has no table of its own for it
      const fields = TABLES[ALIASES[table] ?? table];
      if (!fields) {
        mismatches.push(`${key}: no such table in lib/layout.ts`);
        continue;
      }
      if (fields[field] !== value) mismatches.push(`${key}: C says ${value}, lib/layout.ts says ${fields[field]}`);
    }
    expect(mismatches).toEqual([]);
  });

  cTest(name("every number in lib/layout.ts is checked by the C program"), () => {
    const seen = new Set(get().map(([key]) => key));
    const unchecked: string[] = [];
    for (const [table, fields] of Object.entries(TABLES)) {
      for (const field of Object.keys(fields)) if (!seen.has(`${table}.${field}`)) unchecked.push(`${table}.${field}`);
    }
    expect(unchecked).toEqual([]);
  });

  cTest(name("statx_timestamp is 16 bytes, so the four stx_*time fields are 16 apart"), () => {
    const m = new Map(get());
    expect(m.get("STATX_TIMESTAMP.SIZE")).toBe(16);
    expect(m.get("STATX_TIMESTAMP.tv_sec")).toBe(0);
    expect(m.get("STATX_TIMESTAMP.tv_nsec")).toBe(8);
    expect(L.STATX.stx_btime - L.STATX.stx_atime).toBe(m.get("STATX_TIMESTAMP.SIZE")!);
    expect(L.STATX.stx_rdev_major - L.STATX.stx_mtime).toBe(m.get("STATX_TIMESTAMP.SIZE")!);
  });
});
