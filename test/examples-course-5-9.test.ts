/**
 * The course examples 05-cp-linked and 09-timeouts-and-cancel, run as a user runs them,
 * their output checked line by line.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kernelTest, tempDir, REPO, runBun } from "./helpers.ts";

const repo = REPO;

const run = runBun;

describe("examples/05-cp-linked.ts", () => {
  let dir: ReturnType<typeof tempDir>;
  beforeAll(() => {
    dir = tempDir("bun-uring-05-");
  });
  afterAll(() => dir.cleanup());

  kernelTest("copies a file whose last block is short: the broken link is repaired with a plain write", () => {
    const data = randomBytes(1024 * 1024 + 123);
    const src = join(dir.path, "src.bin");
    const dst = join(dir.path, "dst.bin");
    writeFileSync(src, data);
    const r = run("examples/05-cp-linked.ts", src, dst, "--bs", "64K", "--qd", "4");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(Buffer.compare(readFileSync(dst), data)).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines).toContain("block at 1048576: read 123 of 65536 bytes: a short read breaks the link");
    expect(lines).toContain("block at 1048576: linked write -ECANCELED; the 123 bytes that arrived go out with a plain WRITE");
    expect(r.out).toMatch(/^end of file at 1048699: \d+ reads? returned 0, their writes cancelled$/m);
    // 16 full blocks + the short one + its remainder, at least; exactly one fix-up write
    expect(r.out).toMatch(/^copied 1048699 bytes: \d+ read→write chains, 1 broken by a short read, 1 plain fix-up write, \d+ io_uring_enter calls$/m);
  });

  kernelTest("a file that is a multiple of the block size breaks no link; an empty file copies to an empty file", () => {
    const data = randomBytes(128 * 1024);
    const src = join(dir.path, "exact.bin");
    const dst = join(dir.path, "exact.out");
    writeFileSync(src, data);
    const r = run("examples/05-cp-linked.ts", src, dst, "--bs", "64K");
    expect(r.code).toBe(0);
    expect(Buffer.compare(readFileSync(dst), data)).toBe(0);
    expect(r.out).toContain("copied 131072 bytes:");
    expect(r.out).toContain("0 broken by a short read, 0 plain fix-up writes");

    const empty = join(dir.path, "empty");
    writeFileSync(empty, "");
    const e = run("examples/05-cp-linked.ts", empty, join(dir.path, "empty.out"));
    expect(e.code).toBe(0);
    expect(e.out).toContain("end of file at 0:");
    expect(readFileSync(join(dir.path, "empty.out")).length).toBe(0);
  });

  kernelTest("a read error is reported with its errno name, exit 1", () => {
    const r = run("examples/05-cp-linked.ts", dir.path, join(dir.path, "x"));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`05-cp-linked: read ${dir.path} at offset 0: EISDIR`);
  });

  test("a missing source, and bad arguments", () => {
    const m = run("examples/05-cp-linked.ts", join(dir.path, "nope"), join(dir.path, "y"));
    expect(m.code).toBe(1);
    expect(m.err).toContain("ENOENT");
    const u = run("examples/05-cp-linked.ts", "only-one");
    expect(u.code).toBe(2);
    expect(u.err).toContain("usage: bun examples/05-cp-linked.ts SRC DST");
    expect(run("examples/05-cp-linked.ts", "a", "b", "--bs", "lots").code).toBe(2);
  });
});

describe("examples/09-timeouts-and-cancel.ts", () => {
  kernelTest("every scene ends the way the kernel documents it", () => {
    const r = run("examples/09-timeouts-and-cancel.ts", "--ms", "10");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n").map((l) => l.replace(/\s+/g, " ").trim());
    expect(lines).toEqual([
      "1. waitCqeTimeout(10): null — no SQE, the timespec rides on io_uring_enter (EXT_ARG)",
      "2. IORING_OP_TIMEOUT (10 ms): the time runs out",
      "user_data=0x21 timeout res=-ETIME",
      "3. IORING_OP_TIMEOUT (10 s, count 2) + two NOPs: the count is reached first",
      "user_data=0x31 timeout n=2 res=0",
      "user_data=0x32 nop res=0",
      "user_data=0x33 nop res=0",
      "4. READ on an empty pipe, IO_LINK → LINK_TIMEOUT (10 ms): the read is cancelled",
      "user_data=0x41 read (pipe) res=-ECANCELED",
      "user_data=0x42 link timeout res=-ETIME",
      "5. the same with one byte in the pipe (10 s limit): the timeout is cancelled",
      "user_data=0x51 read (pipe) res=1",
      "user_data=0x52 link timeout res=-ECANCELED",
      "6. IORING_OP_ASYNC_CANCEL: the waiting read, and a user_data nobody has",
      "user_data=0x61 read (pipe) res=-ECANCELED",
      "user_data=0x62 cancel 0x61 res=0",
      "user_data=0x63 cancel 0xdead res=-ENOENT",
      "7. IORING_OP_TIMEOUT_REMOVE: the 10 s timer taken back",
      "user_data=0x71 timeout 10 s res=-ECANCELED",
      "user_data=0x72 timeout remove res=0",
    ]);
  });

  test("a bad --ms is a usage error", () => {
    const r = run("examples/09-timeouts-and-cancel.ts", "--ms", "0");
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage: bun examples/09-timeouts-and-cancel.ts");
  });
});

describe("the course", () => {
  test("every example opens with a usage line, what it teaches and the minimum kernel", () => {
    const { readdirSync } = require("node:fs") as typeof import("node:fs");
    const files = readdirSync(join(repo, "examples")).filter((f: string) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const f of files) {
      const head = readFileSync(join(repo, "examples", f), "utf8").slice(0, 6000);
      const doc = head.slice(0, head.indexOf("*/"));
      expect({ f, usage: /^ \* Usage: bun examples\//im.test(doc) }).toEqual({ f, usage: true });
      expect({ f, teaches: /teaches/i.test(doc) }).toEqual({ f, teaches: true });
      expect({ f, kernel: /Minimum kernel:? Linux \d+\.\d+/i.test(doc) }).toEqual({ f, kernel: true });
    }
  });
});
