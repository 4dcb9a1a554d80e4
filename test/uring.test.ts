/**
 * The safe Promise tier (`Uring`) against the real kernel: lifecycle, never
 * blocking the event loop, batching and backpressure, buffer safety under GC,
 * node:fs-shaped errors, cancellation, and every file/path method and link chain.
 * Sockets are in uring-sockets.test.ts.
 *
 * Timing assertions are one-sided with generous bounds (the CI box has two
 * noisy cores): "well under the sleep", never "within 5 ms".
 */
import { afterAll, beforeAll, expect } from "bun:test";
import {
  closeSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  existsSync,
  rmdirSync,
  symlinkSync,
  type Stats,
} from "node:fs";
import { join } from "node:path";
import { IORING_SQ_TASKRUN, Uring, UringError, UringFile, type UringStats } from "../lib/index.ts";
import { describeKernel, kernelTest as test, tempDir, caught, waitFor, prng } from "./helpers.ts";

const FIXTURES = join(import.meta.dir, "fixtures");


/** node:fs's error for the same call, to compare messages with. */
function nodeError(fn: () => unknown): NodeJS.ErrnoException {
  try {
    fn();
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error("node:fs did not fail");
}

function mkfifo(path: string): void {
  const r = Bun.spawnSync(["mkfifo", path]);
  if (r.exitCode !== 0) throw new Error(`mkfifo ${path}: ${r.stderr.toString()}`);
}


/**
 * readFile with an encoding resolves a string, but its overloads type it as Buffer (the
 * `encoding?: BufferEncoding | null` overload is listed first and catches every call): check at run time.
 */
function asString(value: unknown): string {
  expect(typeof value).toBe("string");
  return value as string;
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

let dir: ReturnType<typeof tempDir>;
beforeAll(() => {
  dir = tempDir("bun-uring-safe-");
});
afterAll(() => dir.cleanup());

// ------------------------------------------------------------------------------------------------
describeKernel("Uring: lifecycle", () => {
  test("options are validated by zod: bad values are TypeError/RangeError naming the field", () => {
    const cases: [unknown, typeof TypeError | typeof RangeError, string][] = [
      [{ entries: 0 }, RangeError, "entries"],
      [{ entries: 40000 }, RangeError, "entries"],
      [{ entries: -4 }, RangeError, "entries"],
      [{ entries: "8" }, TypeError, "entries"],
      [{ entries: 2.5 }, TypeError, "entries"],
      [{ maxInFlight: 0 }, RangeError, "maxInFlight"],
      [{ maxInFlight: "lots" }, TypeError, "maxInFlight"],
      [{ cqEntries: 0 }, RangeError, "cqEntries"],
      [{ memory: "heap" }, TypeError, "memory"],
      [{ entriez: 8 }, TypeError, "entriez"],
    ];
    for (const [opts, Kind, field] of cases) {
      let err: (Error & { code?: string }) | undefined;
      try {
        new Uring(opts as never).close();
      } catch (e) {
        err = e as Error & { code?: string };
      }
      expect(err, JSON.stringify(opts)).toBeInstanceOf(Kind);
      expect(err!.message).toContain(field);
      expect(err!.code).toMatch(/^ERR_(OUT_OF_RANGE|INVALID_ARG_TYPE|INVALID_ARG_VALUE)$/);
    }
    // the unknown key is reported as such
    const unknown = (() => {
      try {
        new Uring({ entries: 8, bogusOption: true } as never);
      } catch (e) {
        return e as Error & { code?: string };
      }
    })();
    expect(unknown?.code).toBe("ERR_INVALID_ARG_VALUE");
    expect(unknown?.message).toContain("bogusOption");
  });

  test("valid options are honoured", async () => {
    await using io = new Uring({ entries: 8, cqEntries: 64, maxInFlight: 5 });
    expect(io.ring.sqEntries).toBe(8);
    expect(io.ring.cqEntries).toBe(64);
    expect(io.maxInFlight).toBe(5);
    await using io2 = new Uring({ entries: 16 });
    expect(io2.maxInFlight).toBe(io2.ring.cqEntries); // default: the CQ size
  });

  test("Uring.default() is reused, and recreated after close", async () => {
    const a = Uring.default();
    expect(Uring.default()).toBe(a);
    expect(await a.nop()).toBe(0);
    await a.close();
    expect(a.closed).toBe(true);
    const b = Uring.default();
    expect(b).not.toBe(a);
    expect(b.closed).toBe(false);
    expect(Uring.default()).toBe(b);
    expect(await b.nop()).toBe(0);
  });

  test("close() with ops in flight rejects them with AbortError promptly, then every method reports ERR_URING_CLOSED", async () => {
    const fifo = join(dir.path, "close.fifo");
    mkfifo(fifo);
    const fd = openSync(fifo, "r+"); // O_RDWR: the open does not block, the read does
    try {
      const io = new Uring();
      const t0 = performance.now();
      const settledAt: Record<string, number> = {};
      const outcome = (name: string, p: Promise<unknown>) =>
        p.then(
          () => ({ name, ok: true as const }),
          (e: Error & { code?: string }) => {
            settledAt[name] = performance.now() - t0;
            return { name, ok: false as const, errName: e.name, code: e.code };
          },
        );
      const sleep = outcome("sleep", io.sleep(10_000));
      const read = outcome("read", io.read(fd, new Uint8Array(64)));
      await Bun.sleep(20);
      expect(io.inFlight).toBe(2); // both really reached the kernel
      const closing = io.close();
      expect(io.closed).toBe(true);
      expect(io.close()).toBe(closing); // idempotent
      const results = await Promise.all([sleep, read]);
      for (const r of results) {
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.errName).toBe("AbortError");
      }
      await closing;
      const elapsed = performance.now() - t0;
      expect(elapsed).toBeLessThan(3000); // well under the 10 s sleep
      expect(Math.max(settledAt.sleep!, settledAt.read!)).toBeLessThan(3000);
      expect(io.ring.closed).toBe(true);
      expect(io.inFlight).toBe(0);

      // afterwards: every method rejects (or throws) ERR_URING_CLOSED
      const calls: [string, () => unknown][] = [
        ["nop", () => io.nop()],
        ["sleep", () => io.sleep(1)],
        ["read", () => io.read(fd, new Uint8Array(4))],
        ["write", () => io.write(fd, new Uint8Array(4))],
        ["stat", () => io.stat(dir.path)],
        ["open", () => io.open(join(dir.path, "x"), "w")],
        ["readFile", () => io.readFile("/proc/self/status")],
        ["writeFile", () => io.writeFile(join(dir.path, "x"), "x")],
        ["mkdir", () => io.mkdir(join(dir.path, "d"))],
        ["unlink", () => io.unlink(join(dir.path, "x"))],
        ["closeFd", () => io.closeFd(fd)],
        ["link chain", () => io.link([{ op: "nop" }])[0]],
      ];
      for (const [name, call] of calls) {
        const e = await caught(call);
        expect(e.code, name).toBe("ERR_URING_CLOSED");
      }
      // nothing was created by the refused calls
      expect(existsSync(join(dir.path, "x"))).toBe(false);
      expect(existsSync(join(dir.path, "d"))).toBe(false);
    } finally {
      closeSync(fd);
    }
  });

  test("close() with nothing in flight, and twice, resolves", async () => {
    const io = new Uring({ entries: 4 });
    await io.nop();
    await io.close();
    await io.close();
    expect(io.closed).toBe(true);
  });

  test("close() also rejects ops still queued in JS", async () => {
    const io = new Uring({ entries: 2, maxInFlight: 1 });
    const ps = [io.sleep(5000), io.sleep(5000), io.nop()];
    expect(io.queued).toBe(3);
    const results = Promise.allSettled(ps);
    await io.close();
    for (const r of await results) {
      expect(r.status).toBe("rejected");
      if (r.status === "rejected") expect((r.reason as Error).name).toBe("AbortError");
    }
  });

  test("await using closes the Uring (Symbol.asyncDispose)", async () => {
    let outer: Uring;
    {
      await using io = new Uring({ entries: 4 });
      outer = io;
      expect(typeof io[Symbol.asyncDispose]).toBe("function");
      expect(await io.nop()).toBe(0);
      expect(io.closed).toBe(false);
    }
    expect(outer.closed).toBe(true);
    expect(outer.ring.closed).toBe(true);
    expect((await caught(() => outer.nop())).code).toBe("ERR_URING_CLOSED");
  });
});

// ------------------------------------------------------------------------------------------------
describeKernel("Uring: never blocks the event loop", () => {
  test("a stale IORING_SQ_TASKRUN (flag up, no task work behind it) does not trap the flush in io_uring_enter", async () => {
    // The kernel can leave IORING_SQ_TASKRUN set with its work list empty (it raises the flag after
    // queueing work that a concurrent run already took). A flush that entered for as long as the flag
    // was up spun in io_uring_enter forever and never let the continuations run (an echo server hung).
    await using io = new Uring();
    await io.nop();
    // something stays in the kernel meanwhile, as a server's multishot accept does
    const stop = new AbortController();
    const pending = io.sleep(60_000, { signal: stop.signal }).catch((e: Error) => e.name);
    if (!io.ring.taskrunPending()) {
      const before = io.ring.sqRing[io.ring._sqFlagsIndex]!;
      Atomics.or(io.ring.sqRing, io.ring._sqFlagsIndex, IORING_SQ_TASKRUN);
      expect(io.ring.sqRing[io.ring._sqFlagsIndex]).toBe(before | IORING_SQ_TASKRUN);
    }
    const enters0 = io.ring.enterCount;
    for (let i = 0; i < 100; i++) expect(await io.nop()).toBe(0);
    // nothing runs task work for a NOP: the first flush found the flag stale and lowered it (see test/uring-taskrun.test.ts)
    expect(io.ring.taskrunPending()).toBe(false);
    expect(io.ring.enterCount - enters0).toBeLessThan(100 * 8);
    stop.abort();
    expect(await pending).toBe("AbortError");
  });

  test("timers tick during await io.sleep(300)", async () => {
    await using io = new Uring();
    let ticks = 0;
    const h = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    try {
      await io.sleep(300);
    } finally {
      clearInterval(h);
    }
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expect(ticks).toBeGreaterThanOrEqual(15);
  });

  test("timers tick during a long loop of awaited inline page-cache reads", async () => {
    await using io = new Uring();
    const path = join(dir.path, "pagecache");
    writeFileSync(path, Buffer.alloc(1 << 20, 0x5a));
    const fd = openSync(path, "r");
    try {
      const buf = new Uint8Array(4096);
      expect(await io.read(fd, buf, 0)).toBe(4096); // warm: later reads complete inside io_uring_enter
      let ticks = 0;
      const h = setInterval(() => ticks++, 10);
      const t0 = performance.now();
      let reads = 0;
      try {
        while (performance.now() - t0 < 300) {
          const n = await io.read(fd, buf, (reads % 256) * 4096);
          if (n !== 4096) throw new Error(`short read ${n}`);
          reads++;
        }
      } finally {
        clearInterval(h);
      }
      expect(reads).toBeGreaterThan(100);
      expect(buf[4095]).toBe(0x5a);
      // without yielding to the macrotask queue, a microtask-only loop would see 0 ticks
      expect(ticks).toBeGreaterThanOrEqual(5);
    } finally {
      closeSync(fd);
    }
  });

  test("a loop of inline completions goes through setImmediate about once per 10 ms, not once per op", async () => {
    // uring.ts #schedule(): "every 10 ms, go through the macrotask queue once" — and not on every op.
    await using io = new Uring();
    const orig = globalThis.setImmediate;
    let immediates = 0;
    globalThis.setImmediate = ((...args: Parameters<typeof setImmediate>) => {
      immediates++;
      return orig(...args);
    }) as typeof setImmediate;
    let ops = 0;
    const t0 = performance.now();
    try {
      while (performance.now() - t0 < 200) {
        await io.nop();
        ops++;
      }
    } finally {
      globalThis.setImmediate = orig;
    }
    const elapsed = performance.now() - t0;
    expect(ops).toBeGreaterThan(1000);
    expect(immediates).toBeLessThan(elapsed / 10 + 20);
  });

  test("a script using Uring.default() exits by itself once nothing is in flight; default() is lazy", () => {
    const t0 = performance.now();
    const r = Bun.spawnSync(["bun", join(FIXTURES, "uring-default-exit.ts")], { timeout: 15_000, stderr: "pipe" });
    const wall = performance.now() - t0;
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.signalCode ?? null).toBeNull();
    expect(wall).toBeLessThan(5000);
    const out = JSON.parse(r.stdout.toString().trim());
    expect(out).toEqual({ before: 0, after: 1, same: true, text: "exit by itself\n", status: true, inFlight: 0, queued: 0 });
  });

  test("a pending io.sleep(300) keeps the script alive for ≈300 ms, then it exits", () => {
    const r = Bun.spawnSync(["bun", join(FIXTURES, "uring-default-sleep.ts")], { timeout: 15_000, stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout.toString().trim()) as { slept: number; exitAt: number };
    expect(out.slept).toBeGreaterThanOrEqual(299); // the sleep completed: the process did not exit early
    expect(out.exitAt).toBeGreaterThanOrEqual(out.slept);
    expect(out.exitAt).toBeLessThan(3000); // and nothing kept it alive afterwards
  });
});

// ------------------------------------------------------------------------------------------------
describeKernel("Uring: batching and backpressure", () => {
  test("100 nops requested in one tick go to the kernel in one io_uring_enter", async () => {
    await using io = new Uring({ entries: 128 });
    expect(io.ring.sqEntries).toBeGreaterThanOrEqual(128);
    await io.nop(); // settle anything the first use does
    const before = io.ring.enterCount;
    const ps = Array.from({ length: 100 }, () => io.nop());
    expect(io.queued).toBe(100);
    expect(io.ring.enterCount).toBe(before); // nothing entered yet: submission waits for the flush
    const res = await Promise.all(ps);
    expect(res).toEqual(new Array(100).fill(0));
    expect(io.ring.enterCount - before).toBe(1);
    expect(io.inFlight).toBe(0);
  });

  test("entries: 4 — 1000 ops requested at once queue in JS and all resolve", async () => {
    await using io = new Uring({ entries: 4 });
    expect(io.ring.sqEntries).toBe(4);
    const before = io.ring.enterCount;
    let resolved = 0;
    const ps: Promise<unknown>[] = [];
    for (let k = 0; k < 1000; k++) ps.push(io.nop().then((r) => (resolved += r === 0 ? 1 : 0)));
    expect(io.queued).toBeGreaterThan(0);
    await Promise.all(ps);
    expect(resolved).toBe(1000);
    expect(io.queued).toBe(0);
    expect(io.inFlight).toBe(0);
    // at most 4 SQEs per enter
    expect(io.ring.enterCount - before).toBeGreaterThanOrEqual(250);
  });

  test("entries: 2, cqEntries: 4, maxInFlight: 1000 — 500 concurrent sleeps and nops lose nothing (CQ overflow)", async () => {
    await using io = new Uring({ entries: 2, cqEntries: 4, maxInFlight: 1000 });
    expect(io.ring.cqEntries).toBe(4);
    let sleeps = 0;
    let nops = 0;
    const ps: Promise<unknown>[] = [];
    for (let k = 0; k < 500; k++) {
      ps.push(k % 2 ? io.sleep(1).then(() => sleeps++) : io.nop().then(() => nops++));
    }
    const all = await Promise.race([Promise.all(ps).then(() => "done"), Bun.sleep(10_000).then(() => "stuck")]);
    expect(all).toBe("done");
    expect(sleeps).toBe(250);
    expect(nops).toBe(250);
    expect(io.inFlight).toBe(0);
    expect(io.queued).toBe(0);
  });

  test("maxInFlight caps the ops in the kernel; the rest wait in the queue", async () => {
    await using io = new Uring({ entries: 64, maxInFlight: 3 });
    let maxSeen = 0;
    let done = 0;
    const t0 = performance.now();
    const ps = Array.from({ length: 9 }, () =>
      io.sleep(100).then(() => {
        maxSeen = Math.max(maxSeen, io.inFlight);
        done++;
      }),
    );
    const sampler = setInterval(() => (maxSeen = Math.max(maxSeen, io.inFlight)), 1);
    await new Promise((r) => setImmediate(r)); // the first flush has run
    expect(io.inFlight).toBe(3);
    expect(io.queued).toBe(6);
    await Promise.all(ps);
    clearInterval(sampler);
    expect(done).toBe(9);
    expect(maxSeen).toBe(3);
    // three waves of 100 ms, one after the other
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expect(io.inFlight).toBe(0);
  });
});

// ------------------------------------------------------------------------------------------------
describeKernel("Uring: buffer safety under GC", () => {
  // Each kind makes a fresh view of `size` bytes WITHOUT touching `.buffer`: small typed arrays
  // live in a GC-movable inline store until then, so the library has to take the address right.
  type Make = (size: number, rnd: () => number, fill: boolean) => ArrayBufferView;
  const typed =
    (C: { new (n: number): ArrayBufferView & ArrayLike<number>; BYTES_PER_ELEMENT: number }, val: (rnd: () => number) => number): Make =>
    (size, rnd, fill) => {
      const a = new C(size / C.BYTES_PER_ELEMENT) as unknown as { [i: number]: number; length: number } & ArrayBufferView;
      if (fill) for (let i = 0; i < a.length; i++) a[i] = val(rnd);
      return a;
    };
  const u32 = (rnd: () => number) => (rnd() * 4294967296) >>> 0;
  const KINDS: { name: string; bpe: number; make: Make }[] = [
    { name: "Uint8Array", bpe: 1, make: typed(Uint8Array, (r) => u32(r) & 255) },
    { name: "Int8Array", bpe: 1, make: typed(Int8Array, u32) },
    { name: "Uint8ClampedArray", bpe: 1, make: typed(Uint8ClampedArray, (r) => u32(r) & 255) },
    { name: "Int16Array", bpe: 2, make: typed(Int16Array, u32) },
    { name: "Uint16Array", bpe: 2, make: typed(Uint16Array, u32) },
    { name: "Int32Array", bpe: 4, make: typed(Int32Array, u32) },
    { name: "Uint32Array", bpe: 4, make: typed(Uint32Array, u32) },
    { name: "Float32Array", bpe: 4, make: typed(Float32Array, (r) => r() * 1000 - 500) },
    { name: "Float64Array", bpe: 8, make: typed(Float64Array, (r) => r() * 1e9 - 5e8) },
    {
      name: "BigUint64Array",
      bpe: 8,
      make: (size, rnd, fill) => {
        const a = new BigUint64Array(size / 8);
        if (fill) for (let i = 0; i < a.length; i++) a[i] = (BigInt(u32(rnd)) << 32n) | BigInt(u32(rnd));
        return a;
      },
    },
    {
      name: "DataView",
      bpe: 1,
      make: (size, rnd, fill) => {
        const v = new DataView(new ArrayBuffer(size));
        if (fill) for (let i = 0; i < size; i++) v.setUint8(i, u32(rnd) & 255);
        return v;
      },
    },
    {
      name: "Buffer (pooled, byteOffset ≠ 0)",
      bpe: 1,
      make: (size, rnd, fill) => {
        const b = Buffer.allocUnsafe(size);
        if (fill) for (let i = 0; i < size; i++) b[i] = u32(rnd) & 255;
        else b.fill(0);
        return b;
      },
    },
    {
      name: "subarray",
      bpe: 1,
      make: (size, rnd, fill) => {
        const s = new Uint8Array(size + 24).subarray(11, 11 + size);
        if (fill) for (let i = 0; i < size; i++) s[i] = u32(rnd) & 255;
        return s;
      },
    },
  ];
  const SIZES = [1, 7, 64, 1000, 4096, 65536 + 3];
  const WEIGHTS = [25, 25, 20, 20, 8, 2];

  test("100k reads/writes at random offsets, Bun.gc(true) between submit and completion: every byte read is what was written", async () => {
    const FILE_SIZE = 4 << 20;
    const ROUNDS = 100;
    const BATCH = 500;
    const rnd = prng(0x5eed1e);
    const pickSize = () => {
      let r = rnd() * 100;
      for (let k = 0; k < SIZES.length; k++) if ((r -= WEIGHTS[k]!) < 0) return SIZES[k]!;
      return SIZES[0]!;
    };
    const pickKind = (size: number) => {
      const ok = KINDS.filter((k) => size % k.bpe === 0);
      return ok[Math.floor(rnd() * ok.length)]!;
    };

    await using io = new Uring({ entries: 256 });
    const path = join(dir.path, "gc-stress");
    const fd = openSync(path, "w+");
    const model = new Uint8Array(FILE_SIZE);
    const busy = new Uint8Array(FILE_SIZE); // regions written in this batch: writes in a batch never overlap
    let ops = 0;
    let gcWhileInKernel = 0;
    const kindsUsed = new Set<string>();
    const t0 = performance.now();

    /** Run a batch of requests with full GCs before the flush and (when anything is in the kernel) after it. */
    async function batch<T>(make: () => Promise<T>[]): Promise<T[]> {
      const ps = make();
      Bun.gc(true); // requested, not yet submitted: addresses were taken at request time
      await new Promise((r) => setImmediate(r)); // the flush has run
      if (io.inFlight > 0) {
        gcWhileInKernel++;
        Bun.gc(true); // submitted, not yet completed
      }
      return Promise.all(ps);
    }

    try {
      for (let round = 0; round < ROUNDS; round++) {
        if (round % 10 === 0) {
          // a fresh sparse file: writes into holes allocate blocks, so they complete in io-wq (async)
          await io.ftruncate(fd, 0);
          await io.ftruncate(fd, FILE_SIZE);
          model.fill(0);
        }
        // --- writes
        const writes: { off: number; view: ArrayBufferView }[] = [];
        const written = await batch(() => {
          const ps: Promise<number>[] = [];
          while (ps.length < BATCH) {
            const size = pickSize();
            let off = Math.floor(rnd() * (FILE_SIZE - size + 1));
            if (busy.subarray(off, off + size).includes(1)) continue; // overlap: pick again
            busy.fill(1, off, off + size);
            const kind = pickKind(size);
            kindsUsed.add(kind.name);
            const view = kind.make(size, rnd, true);
            writes.push({ off, view });
            ps.push(io.write(fd, view, off));
            if (rnd() < 0.5) void view.buffer; // user code touches .buffer while the op is pending: the store moves now
          }
          return ps;
        });
        ops += written.length;
        for (let k = 0; k < writes.length; k++) {
          const { off, view } = writes[k]!;
          expect(written[k]).toBe(view.byteLength);
          model.set(bytesOf(view), off);
          busy.fill(0, off, off + view.byteLength);
        }
        // --- reads into fresh (zeroed) views
        const reads: { off: number; view: ArrayBufferView }[] = [];
        const got = await batch(() => {
          const ps: Promise<number>[] = [];
          for (let k = 0; k < BATCH; k++) {
            const size = pickSize();
            const off = Math.floor(rnd() * (FILE_SIZE - size + 1));
            const view = pickKind(size).make(size, rnd, false);
            reads.push({ off, view });
            ps.push(io.read(fd, view, off));
            if (rnd() < 0.5) void view.buffer;
          }
          return ps;
        });
        ops += got.length;
        let bad = 0;
        for (let k = 0; k < reads.length; k++) {
          const { off, view } = reads[k]!;
          if (got[k] !== view.byteLength || !Buffer.from(bytesOf(view)).equals(model.subarray(off, off + view.byteLength))) bad++;
        }
        expect(bad).toBe(0);
      }
      // the whole file, read by node:fs, is the model
      expect(Buffer.from(readFileSync(path)).equals(model)).toBe(true);
    } finally {
      closeSync(fd);
    }
    expect(ops).toBe(ROUNDS * BATCH * 2);
    expect(gcWhileInKernel).toBeGreaterThan(0);
    expect(kindsUsed.size).toBe(KINDS.length);
    expect(io.inFlight).toBe(0);
    expect(performance.now() - t0).toBeLessThan(25_000);
  }, 60_000);
});

// ------------------------------------------------------------------------------------------------
describeKernel("Uring: errors like node:fs", () => {
  let io: Uring;
  beforeAll(() => {
    io = new Uring();
  });
  afterAll(() => io.close());

  test("ENOENT on open/stat/lstat/readFile/unlink/rmdir/rename carries code, errno, syscall, path (and dest) and node's message", async () => {
    const missing = join(dir.path, "no-such-file");
    const dest = join(dir.path, "dest");
    const cases: [string, () => Promise<unknown>, () => unknown][] = [
      ["open", () => io.open(missing), () => openSync(missing, "r")],
      ["openFd", () => io.openFd(missing), () => openSync(missing, "r")],
      ["stat", () => io.stat(missing), () => statSync(missing)],
      ["lstat", () => io.lstat(missing), () => lstatSync(missing)],
      ["readFile", () => io.readFile(missing), () => readFileSync(missing)],
      ["unlink", () => io.unlink(missing), () => unlinkSync(missing)],
      ["rmdir", () => io.rmdir(missing), () => rmdirSync(missing)],
      ["rename", () => io.rename(missing, dest), () => renameSync(missing, dest)],
      ["link", () => io.link(missing, dest), () => linkSync(missing, dest)],
    ];
    for (const [name, ours, theirs] of cases) {
      const e = await caught(ours);
      const n = nodeError(theirs);
      expect(e, name).toBeInstanceOf(UringError);
      expect(e, name).toBeInstanceOf(Error);
      expect(e.code, name).toBe("ENOENT");
      expect(e.errno, name).toBe(-2);
      expect(e.errno, name).toBe(n.errno!);
      expect(e.syscall, name).toBe(n.syscall!);
      expect(e.path, name).toBe(missing);
      expect(e.message, name).toBe(n.message);
      if (name === "rename" || name === "link") expect(e.dest, name).toBe(dest);
    }
    expect((await caught(() => io.open(missing))).message).toBe(`ENOENT: no such file or directory, open '${missing}'`);
  });

  test("EISDIR reading a directory, EEXIST on mkdir of an existing path, ENOTDIR, ENOTEMPTY, EBADF", async () => {
    const e1 = await caught(() => io.readFile(dir.path));
    expect(e1).toBeInstanceOf(UringError);
    expect(e1.code).toBe("EISDIR");
    expect(e1.errno).toBe(-21);
    expect(e1.syscall).toBe("read");

    const e2 = await caught(() => io.mkdir(dir.path));
    expect(e2).toBeInstanceOf(UringError);
    expect(e2.code).toBe("EEXIST");
    expect(e2.errno).toBe(-17);
    expect(e2.syscall).toBe("mkdir");
    expect(e2.path).toBe(dir.path);

    const file = join(dir.path, "plain");
    writeFileSync(file, "x");
    const e3 = await caught(() => io.stat(join(file, "below")));
    expect(e3.code).toBe("ENOTDIR");
    expect(e3.errno).toBe(-20);

    const full = join(dir.path, "full");
    mkdirSync(full);
    writeFileSync(join(full, "f"), "x");
    const e4 = await caught(() => io.rmdir(full));
    expect(e4.code).toBe("ENOTEMPTY");
    expect(e4.syscall).toBe("rmdir");

    const e5 = await caught(() => io.read(999_999, new Uint8Array(4), 0));
    expect(e5).toBeInstanceOf(UringError);
    expect(e5.code).toBe("EBADF");
    expect(e5.errno).toBe(-9);
    expect(e5.syscall).toBe("read");
    expect(e5.message).toBe("EBADF: bad file descriptor, read");
  });

  test("EEXIST / EISDIR messages use node's (libuv's) wording, like node:fs", async () => {
    // errors.ts errnoMessage() uses strerror(3) ("File exists", "Is a directory"); node:fs uses libuv's
    // uv_strerror ("file already exists", "illegal operation on a directory").
    const e1 = await caught(() => io.mkdir(dir.path));
    const n1 = nodeError(() => mkdirSync(dir.path));
    expect(e1.message).toBe(n1.message); // "EEXIST: file already exists, mkdir '<path>'"
    const e2 = await caught(() => io.readFile(dir.path));
    const n2 = nodeError(() => readFileSync(dir.path));
    expect(String(e2.message).split(",")[0]).toBe(n2.message.split(",")[0]); // "EISDIR: illegal operation on a directory"
  });

  test("bad arguments throw TypeError/RangeError with a code, and submit nothing", async () => {
    const fd = openSync(join(dir.path, "args"), "w+");
    try {
      const buf = new Uint8Array(8);
      const before = io.ring.enterCount;
      const cases: [string, () => unknown, typeof TypeError | typeof RangeError, string][] = [
        ["fd -1", () => io.read(-1, buf), RangeError, "ERR_OUT_OF_RANGE"],
        ["fd 1.5", () => io.write(1.5, buf), RangeError, "ERR_OUT_OF_RANGE"],
        ['fd "x"', () => io.read("x" as never, buf), TypeError, "ERR_INVALID_ARG_TYPE"],
        ["fd null", () => io.fstat(null as never), TypeError, "ERR_INVALID_ARG_TYPE"],
        ["non-buffer string", () => io.write(fd, "text" as never), TypeError, "ERR_INVALID_ARG_TYPE"],
        ["non-buffer array", () => io.read(fd, [1, 2, 3] as never), TypeError, "ERR_INVALID_ARG_TYPE"],
        ["non-buffer ArrayBuffer", () => io.read(fd, new ArrayBuffer(8) as never), TypeError, "ERR_INVALID_ARG_TYPE"],
        ["negative position", () => io.read(fd, buf, -5), RangeError, "ERR_OUT_OF_RANGE"],
        ["fractional position", () => io.write(fd, buf, 1.5), RangeError, "ERR_OUT_OF_RANGE"],
        ["path with NUL (stat)", () => io.stat("a\0b"), TypeError, "ERR_INVALID_ARG_VALUE"],
        ["path with NUL (open)", () => io.open("a\0b"), TypeError, "ERR_INVALID_ARG_VALUE"],
        ["path with NUL (readFile)", () => io.readFile("a\0b"), TypeError, "ERR_INVALID_ARG_VALUE"],
        ["path with NUL (unlink)", () => io.unlink("a\0b"), TypeError, "ERR_INVALID_ARG_VALUE"],
        ["path with NUL (rename)", () => io.rename("a", "b\0c"), TypeError, "ERR_INVALID_ARG_VALUE"],
        ["empty path", () => io.stat(""), TypeError, "ERR_INVALID_ARG_VALUE"],
        ["path not a string", () => io.stat(42 as never), TypeError, "ERR_INVALID_ARG_TYPE"],
        ["bad open flags", () => io.openFd(join(dir.path, "f"), "rw+" as never), TypeError, "ERR_INVALID_ARG_VALUE"],
        ["timeout -1", () => io.nop({ timeout: -1 }), RangeError, "ERR_OUT_OF_RANGE"],
        ["signal not a signal", () => io.nop({ signal: {} as never }), TypeError, "ERR_INVALID_ARG_TYPE"],
        ["unknown link step", () => io.link([{ op: "frobnicate" } as never]), TypeError, "ERR_INVALID_ARG_VALUE"],
      ];
      for (const [name, call, Kind, code] of cases) {
        const e = await caught(call);
        expect(e, name).toBeInstanceOf(Kind);
        expect(e.code, name).toBe(code);
      }
      await Bun.sleep(1);
      expect(io.queued).toBe(0);
      expect(io.inFlight).toBe(0);
      expect(io.ring.enterCount).toBe(before);
    } finally {
      closeSync(fd);
    }
  });
});

// ------------------------------------------------------------------------------------------------
describeKernel("Uring: cancellation", () => {
  test("an already aborted signal rejects with AbortError without submitting", async () => {
    await using io = new Uring({ entries: 4 });
    const ac = new AbortController();
    ac.abort();
    const before = io.ring.enterCount;
    const ps = [io.nop({ signal: ac.signal }), io.sleep(10, { signal: ac.signal }), io.stat("/", { signal: ac.signal })];
    expect(io.queued).toBe(0);
    for (const p of ps) {
      const e = await caught(() => p);
      expect(e.name).toBe("AbortError");
    }
    await Bun.sleep(1);
    expect(io.ring.enterCount).toBe(before);
    expect(io.inFlight).toBe(0);
  });

  test("abort during io.sleep(5000) rejects with AbortError fast and cancels it in the kernel", async () => {
    await using io = new Uring();
    const ac = new AbortController();
    const t0 = performance.now();
    const p = io.sleep(5000, { signal: ac.signal });
    await Bun.sleep(20);
    expect(io.inFlight).toBe(1);
    ac.abort(new Error("user gave up"));
    const e = await caught(() => p);
    expect(e.name).toBe("AbortError");
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(await waitFor(() => io.inFlight === 0)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2500);
  });

  test("abort of a read on an empty FIFO: AbortError, the op stays tracked until its CQE, nothing is corrupted after", async () => {
    const fifo = join(dir.path, "abort.fifo");
    mkfifo(fifo);
    const fd = openSync(fifo, "r+");
    try {
      await using io = new Uring();
      const ac = new AbortController();
      const buf = new Uint8Array(32);
      let inFlightAtReject = -1;
      const p = io.read(fd, buf, null, { signal: ac.signal }).catch((e: Error) => {
        inFlightAtReject = io.inFlight; // the rejection comes first; the kernel still has the read
        throw e;
      });
      await Bun.sleep(20);
      expect(io.inFlight).toBe(1);
      const t0 = performance.now();
      ac.abort();
      const e = await caught(() => p);
      expect(e.name).toBe("AbortError");
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(inFlightAtReject).toBe(1);
      expect(await waitFor(() => io.inFlight === 0)).toBe(true);

      // data written afterwards goes to the next reader, not into the aborted read's buffer
      const msg = Buffer.from("after the abort");
      writeSync(fd, msg);
      const next = new Uint8Array(64);
      const n = await io.read(fd, next, null);
      expect(Buffer.from(next.subarray(0, n)).toString()).toBe("after the abort");
      expect(buf.every((b) => b === 0)).toBe(true);
      expect(io.inFlight).toBe(0);
    } finally {
      closeSync(fd);
    }
  });

  test("timeout: 20 on io.sleep(5000) rejects with TimeoutError", async () => {
    await using io = new Uring();
    const t0 = performance.now();
    const e = await caught(() => io.sleep(5000, { timeout: 20 }));
    const elapsed = performance.now() - t0;
    expect(e.name).toBe("TimeoutError");
    expect(elapsed).toBeGreaterThanOrEqual(19);
    expect(elapsed).toBeLessThan(2000);
    expect(await waitFor(() => io.inFlight === 0)).toBe(true);
    // a timeout that does not fire changes nothing
    expect(await io.nop({ timeout: 1000 })).toBe(0);
  });

  test("abort of a queued op (never reached the kernel) drops it; the others still run", async () => {
    await using io = new Uring({ entries: 2, maxInFlight: 1 });
    const ac = new AbortController();
    const first = io.sleep(30);
    const second = io.nop({ signal: ac.signal });
    const third = io.nop();
    ac.abort();
    expect((await caught(() => second)).name).toBe("AbortError");
    await first;
    expect(await third).toBe(0);
    expect(io.inFlight).toBe(0);
    expect(io.queued).toBe(0);
  });
});

// ------------------------------------------------------------------------------------------------
describeKernel("Uring: methods", () => {
  let io: Uring;
  beforeAll(() => {
    io = new Uring();
  });
  afterAll(() => io.close());

  const p = (name: string) => join(dir.path, name);

  /** The fields node:fs and UringStats share, compared. */
  function expectSameStats(ours: UringStats, theirs: Stats): void {
    expect(ours.size).toBe(Number(theirs.size));
    expect(ours.mode).toBe(Number(theirs.mode));
    expect(ours.ino).toBe(Number(theirs.ino));
    expect(ours.nlink).toBe(Number(theirs.nlink));
    expect(ours.uid).toBe(Number(theirs.uid));
    expect(ours.gid).toBe(Number(theirs.gid));
    expect(ours.dev).toBe(Number(theirs.dev));
    expect(ours.blocks).toBe(Number(theirs.blocks));
    expect(Math.abs(ours.mtimeMs - Number(theirs.mtimeMs))).toBeLessThanOrEqual(1);
    expect(Math.abs(ours.ctimeMs - Number(theirs.ctimeMs))).toBeLessThanOrEqual(1);
    expect(ours.mtime).toBeInstanceOf(Date);
    expect(ours.isFile()).toBe(theirs.isFile());
    expect(ours.isDirectory()).toBe(theirs.isDirectory());
    expect(ours.isSymbolicLink()).toBe(theirs.isSymbolicLink());
    expect(ours.isFIFO()).toBe(theirs.isFIFO());
  }

  test("nop resolves 0", async () => {
    expect(await io.nop()).toBe(0);
  });

  test("sleep: elapsed ≥ requested", async () => {
    for (const ms of [0, 1, 15, 60]) {
      const t0 = performance.now();
      await io.sleep(ms);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(ms);
    }
    expect((await caught(() => io.sleep(-1))).code).toBe("ERR_OUT_OF_RANGE");
  });

  test("open → UringFile: write/read with and without position, readv/writev, stat, sync, datasync, truncate, close", async () => {
    const path = p("file");
    const f = await io.open(path, "w+", 0o640);
    expect(f).toBeInstanceOf(UringFile);
    expect(f.fd).toBeGreaterThanOrEqual(0);
    expect(f.path).toBe(path);
    const enc = new TextEncoder();
    // without a position: the file position advances
    expect(await f.write(enc.encode("hello "))).toBe(6);
    expect(await f.write(enc.encode("world"), null)).toBe(5);
    expect(readFileSync(path, "utf8")).toBe("hello world");
    // with a position
    expect(await f.write(enc.encode("W"), 6)).toBe(1);
    expect(await f.write(enc.encode("!"), 11n)).toBe(1);
    expect(readFileSync(path, "utf8")).toBe("hello World!");
    const back = new Uint8Array(5);
    expect(await f.read(back, 0)).toBe(5);
    expect(new TextDecoder().decode(back)).toBe("hello");
    expect(await f.read(back, 100)).toBe(0); // at EOF
    // writev/readv
    expect(await f.writev([enc.encode("ab"), new Uint8Array(0), enc.encode("cde"), Buffer.from("f")], 12)).toBe(6);
    const [a, b] = [new Uint8Array(4), new Uint8Array(10)];
    expect(await f.readv([a, b], 10)).toBe(8);
    expect(new TextDecoder().decode(a)).toBe("d!ab");
    expect(new TextDecoder().decode(b.subarray(0, 4))).toBe("cdef");
    // stat of the open file
    const st = await f.stat();
    expect(st.size).toBe(18);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(0o640 & ~process.umask());
    expectSameStats(st, fstatSync(f.fd));
    await f.sync();
    await f.datasync();
    await f.truncate(5);
    expect(readFileSync(path, "utf8")).toBe("hello");
    await f.truncate();
    expect(statSync(path).size).toBe(0);
    const fd = f.fd;
    await f.close();
    expect(f.fd).toBe(-1);
    await f.close(); // idempotent
    expect(() => fstatSync(fd)).toThrow();
    const e = await caught(() => f.read(new Uint8Array(1)));
    expect(e.code).toBe("EBADF");
  });

  test("await using closes a UringFile", async () => {
    let fd = -1;
    let handle: UringFile;
    {
      await using f = await io.open(p("disposed"), "w");
      handle = f;
      fd = f.fd;
      expect(fd).toBeGreaterThanOrEqual(0);
      await f.write(new TextEncoder().encode("x"));
    }
    expect(handle.fd).toBe(-1);
    expect(() => fstatSync(fd)).toThrow();
    expect(readFileSync(p("disposed"), "utf8")).toBe("x");
  });

  test("open flags: numbers and node's strings (r, r+, w, wx, a)", async () => {
    const path = p("flags");
    const w = await io.open(path, "w");
    await w.write(Buffer.from("one"));
    await w.close();
    const a = await io.open(path, "a");
    await a.write(Buffer.from("two"));
    await a.close();
    expect(readFileSync(path, "utf8")).toBe("onetwo");
    expect((await caught(() => io.open(path, "wx"))).code).toBe("EEXIST");
    const r = await io.open(path, "r");
    expect((await caught(() => r.write(Buffer.from("x"), 0))).code).toBe("EBADF");
    await r.close();
    const fd = await io.openFd(path, 2 /* O_RDWR */);
    expect(typeof fd).toBe("number");
    await io.closeFd(fd);
  });

  test("fd-level read/write/closeFd", async () => {
    const path = p("fdlevel");
    writeFileSync(path, "");
    const fd = openSync(path, "r+");
    let closed = false;
    try {
      const data = Buffer.from("0123456789");
      expect(await io.write(fd, data, 0)).toBe(10);
      expect(await io.write(fd, new Uint16Array([0x4241]), 10)).toBe(2); // little-endian "AB"
      expect(readFileSync(path, "utf8")).toBe("0123456789AB");
      const buf = Buffer.alloc(4);
      expect(await io.read(fd, buf, 3)).toBe(4);
      expect(buf.toString()).toBe("3456");
      const dv = new DataView(new ArrayBuffer(2));
      expect(await io.read(fd, dv, 10)).toBe(2);
      expect(dv.getUint16(0, true)).toBe(0x4241);
      expect(await io.read(fd, new Uint8Array(0), 0)).toBe(0);
      await io.closeFd(fd);
      closed = true;
      expect(() => fstatSync(fd)).toThrow();
    } finally {
      if (!closed) closeSync(fd);
    }
  });

  test("readFile: bytes, encoding, a 5 MiB file, and a /proc file whose stat size is 0", async () => {
    const small = p("small.txt");
    writeFileSync(small, "héllo\n");
    const bytes = await io.readFile(small);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes.equals(Buffer.from("héllo\n"))).toBe(true);
    expect(asString(await io.readFile(small, { encoding: "utf8" }))).toBe("héllo\n");
    expect(asString(await io.readFile(small, { encoding: "hex" }))).toBe(Buffer.from("héllo\n").toString("hex"));

    const empty = p("empty");
    writeFileSync(empty, "");
    expect((await io.readFile(empty)).length).toBe(0);

    const big = p("big.bin");
    const content = Buffer.alloc(5 << 20);
    const r = prng(5);
    for (let i = 0; i < content.length; i += 4) content.writeUInt32LE((r() * 4294967296) >>> 0, i);
    writeFileSync(big, content);
    const got = await io.readFile(big);
    expect(got.length).toBe(5 << 20);
    expect(got.equals(content)).toBe(true);

    expect(statSync("/proc/self/status").size).toBe(0);
    const status = asString(await io.readFile("/proc/self/status", { encoding: "utf8" }));
    expect(status).toStartWith("Name:");
    expect(status).toContain(`\nPid:\t${process.pid}\n`);
    const mounts = asString(await io.readFile("/proc/self/mountinfo", { encoding: "utf8" })); // usually > 4096 bytes
    expect(mounts).toBe(readFileSync("/proc/self/mountinfo", "utf8"));
  });

  test("writeFile: a string, bytes, typed arrays of other types; truncates what was there", async () => {
    const path = p("written");
    await io.writeFile(path, "first, and longer than the second");
    expect(readFileSync(path, "utf8")).toBe("first, and longer than the second");
    await io.writeFile(path, new TextEncoder().encode("bytes"));
    expect(readFileSync(path, "utf8")).toBe("bytes");
    await io.writeFile(path, new Uint32Array([0x64636261]));
    expect(readFileSync(path, "utf8")).toBe("abcd");
    await io.writeFile(path, "");
    expect(statSync(path).size).toBe(0);
    const big = Buffer.alloc(3 << 20, 0xab);
    await io.writeFile(path, big);
    expect(readFileSync(path).equals(big)).toBe(true);
    await io.writeFile(path, "tail", { flag: "a" });
    expect(statSync(path).size).toBe((3 << 20) + 4);
    await io.writeFile(p("moded"), "x", { mode: 0o600 });
    expect(statSync(p("moded")).mode & 0o777).toBe(0o600 & ~process.umask());
  });

  test("stat/lstat agree with node:fs (size, mode, ino, mtimeMs within 1 ms, isFile/isDirectory/isSymbolicLink)", async () => {
    const file = p("st-file");
    writeFileSync(file, "some content");
    const link = p("st-link");
    symlinkSync(file, link);
    expectSameStats(await io.stat(file), statSync(file));
    expectSameStats(await io.lstat(file), lstatSync(file));
    expectSameStats(await io.stat(dir.path), statSync(dir.path));
    const viaLink = await io.stat(link);
    expectSameStats(viaLink, statSync(link));
    expect(viaLink.isFile()).toBe(true);
    const theLink = await io.lstat(link);
    expectSameStats(theLink, lstatSync(link));
    expect(theLink.isSymbolicLink()).toBe(true);
    expect(theLink.size).toBe(file.length);
    const fifo = p("st-fifo");
    mkfifo(fifo);
    expect((await io.stat(fifo)).isFIFO()).toBe(true);
    const devnull = await io.stat("/dev/null");
    expect(devnull.isCharacterDevice()).toBe(true);
    expect(devnull.rdev).toBe(Number(statSync("/dev/null").rdev));
  });

  test("stat birthtimeMs agrees with node:fs (STATX_BTIME is never requested)", async () => {
    // uring.ts #statx() asks for STATX_BASIC_STATS only, which excludes STATX_BTIME: birthtimeMs is 0 (1970).
    const file = p("st-birth");
    writeFileSync(file, "x");
    const theirs = statSync(file);
    expect(theirs.birthtimeMs).toBeGreaterThan(0); // this filesystem records it
    const ours = await io.stat(file);
    expect(Math.abs(ours.birthtimeMs - theirs.birthtimeMs)).toBeLessThanOrEqual(1);
  });

  test("unlink, rename (over an existing file too)", async () => {
    const a = p("ren-a");
    const b = p("ren-b");
    writeFileSync(a, "A");
    writeFileSync(b, "B");
    await io.rename(a, b);
    expect(existsSync(a)).toBe(false);
    expect(readFileSync(b, "utf8")).toBe("A");
    await io.unlink(b);
    expect(existsSync(b)).toBe(false);
    expect((await caught(() => io.unlink(dir.path))).code).toMatch(/^(EISDIR|EPERM)$/);
  });

  test("mkdir (mode, recursive, existing) and rmdir", async () => {
    const d = p("mk");
    await io.mkdir(d, { mode: 0o750 });
    expect(statSync(d).isDirectory()).toBe(true);
    expect(statSync(d).mode & 0o777).toBe(0o750 & ~process.umask());
    expect((await caught(() => io.mkdir(d))).code).toBe("EEXIST");
    await io.mkdir(d, { recursive: true }); // existing directory: fine with recursive
    const deep = join(d, "a", "b", "c");
    expect((await caught(() => io.mkdir(deep))).code).toBe("ENOENT");
    await io.mkdir(deep, { recursive: true });
    expect(statSync(deep).isDirectory()).toBe(true);
    await io.mkdir(`${join(d, "x", "y")}/`, { recursive: true }); // trailing slash
    expect(statSync(join(d, "x", "y")).isDirectory()).toBe(true);
    // recursive over a file is still EEXIST
    writeFileSync(join(d, "file"), "");
    expect((await caught(() => io.mkdir(join(d, "file"), { recursive: true }))).code).toBe("EEXIST");
    await io.rmdir(deep);
    expect(existsSync(deep)).toBe(false);
    expect(existsSync(join(d, "a", "b"))).toBe(true);
    expect((await caught(() => io.rmdir(join(d, "file")))).code).toBe("ENOTDIR");
  });

  test("symlink and link (a hard link shares the inode)", async () => {
    const target = p("ln-target");
    writeFileSync(target, "linked");
    const sym = p("ln-sym");
    await io.symlink(target, sym);
    expect(lstatSync(sym).isSymbolicLink()).toBe(true);
    expect(readlinkSync(sym)).toBe(target);
    expect(readFileSync(sym, "utf8")).toBe("linked");
    const rel = p("ln-rel");
    await io.symlink("ln-target", rel); // relative targets are stored as given
    expect(readlinkSync(rel)).toBe("ln-target");
    const e = await caught(() => io.symlink(target, sym));
    expect(e.code).toBe("EEXIST");
    expect(e.dest).toBe(sym);

    const hard = p("ln-hard");
    await io.link(target, hard);
    expect(statSync(hard).ino).toBe(statSync(target).ino);
    expect((await io.stat(hard)).ino).toBe((await io.stat(target)).ino);
    expect((await io.stat(target)).nlink).toBe(2);
    expect(readFileSync(hard, "utf8")).toBe("linked");
  });

  test("fallocate and ftruncate", async () => {
    const path = p("alloc");
    const fd = openSync(path, "w+");
    try {
      await io.fallocate(fd, 0, 1 << 20);
      const st = await io.fstat(fd);
      expect(st.size).toBe(1 << 20);
      expect(st.blocks * 512).toBeGreaterThanOrEqual(1 << 20);
      await io.fallocate(fd, 4 << 20, 4096);
      expect(fstatSync(fd).size).toBe((4 << 20) + 4096);
      await io.ftruncate(fd, 100);
      expect(fstatSync(fd).size).toBe(100);
      await io.ftruncate(fd);
      expect(fstatSync(fd).size).toBe(0);
      await io.ftruncate(fd, 2 ** 33); // beyond 32 bits
      expect(fstatSync(fd).size).toBe(2 ** 33);
    } finally {
      closeSync(fd);
    }
  });

  test("io.link([...]): a chain of nop/write/fsync/read/sleep runs in order, one promise per step", async () => {
    const path = p("chain");
    const fd = openSync(path, "w+");
    try {
      const data = new TextEncoder().encode("linked write");
      const back = new Uint8Array(data.length); // exactly: a short read would break the chain
      const t0 = performance.now();
      let writeAt = 0;
      const ps = io.link([
        { op: "nop" },
        { op: "sleep", ms: 40 },
        { op: "write", fd, buffer: data, position: 0 },
        { op: "fsync", fd },
        { op: "fsync", fd, datasync: true },
        { op: "read", fd, buffer: back, position: 0 },
        { op: "nop" },
      ]);
      expect(ps.length).toBe(7);
      void ps[2]!.then(() => (writeAt = performance.now() - t0));
      const res = await Promise.all(ps);
      expect(res).toEqual([0, undefined, data.length, undefined, undefined, data.length, 0]);
      expect(writeAt).toBeGreaterThanOrEqual(40); // the write waited for the sleep before it
      expect(new TextDecoder().decode(back)).toBe("linked write");
    } finally {
      closeSync(fd);
    }
  });

  test("io.link([...]): open / read / close as chains", async () => {
    const path = p("chain-open");
    writeFileSync(path, "chained open");
    const [opened, after] = io.link([{ op: "open", path }, { op: "nop" }]);
    const fd = (await opened) as number;
    expect(await after).toBe(0);
    expect(fd).toBeGreaterThanOrEqual(0);
    const buf = new Uint8Array(12);
    const [n, closed] = await Promise.all(io.link([{ op: "read", fd, buffer: buf, position: 0 }, { op: "close", fd }]));
    expect(n).toBe(12);
    expect(closed).toBeUndefined();
    expect(new TextDecoder().decode(buf)).toBe("chained open");
    expect(() => fstatSync(fd)).toThrow();
    const [missing] = io.link([{ op: "open", path: p("chain-missing") }]);
    const e = await caught(() => missing!);
    expect(e.code).toBe("ENOENT");
    expect(e.path).toBe(p("chain-missing"));
  });

  test("io.link([...]): a failing step cancels the rest with ECANCELED; hard: true keeps them running", async () => {
    const path = p("chain-fail");
    const fd = openSync(path, "w+");
    try {
      const buf = new Uint8Array(8);
      const soft = await Promise.allSettled(
        io.link([
          { op: "nop" },
          { op: "read", fd: 999_999, buffer: buf, position: 0 },
          { op: "write", fd, buffer: new TextEncoder().encode("never"), position: 0 },
          { op: "nop" },
          { op: "sleep", ms: 1 },
        ]),
      );
      expect(soft[0]).toEqual({ status: "fulfilled", value: 0 });
      expect(soft[1]!.status).toBe("rejected");
      expect((soft[1] as PromiseRejectedResult).reason.code).toBe("EBADF");
      for (const r of soft.slice(2)) {
        expect(r.status).toBe("rejected");
        const reason = (r as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(UringError);
        expect(reason.code).toBe("ECANCELED");
        expect(reason.errno).toBe(-125);
      }
      expect(readFileSync(path, "utf8")).toBe(""); // the cancelled write never happened

      const hard = await Promise.allSettled(
        io.link(
          [
            { op: "read", fd: 999_999, buffer: buf, position: 0 },
            { op: "write", fd, buffer: new TextEncoder().encode("ran anyway"), position: 0 },
            { op: "nop" },
          ],
          { hard: true },
        ),
      );
      expect((hard[0] as PromiseRejectedResult).reason.code).toBe("EBADF");
      expect(hard[1]).toEqual({ status: "fulfilled", value: 10 });
      expect(hard[2]).toEqual({ status: "fulfilled", value: 0 });
      expect(readFileSync(path, "utf8")).toBe("ran anyway");
      expect(io.inFlight).toBe(0);
    } finally {
      closeSync(fd);
    }
  });

  test("io.link([...]): a short read breaks a soft chain (the kernel's rule), not a hard one", async () => {
    const path = p("chain-short");
    writeFileSync(path, "short");
    const fd = openSync(path, "r");
    try {
      const soft = await Promise.allSettled(io.link([{ op: "read", fd, buffer: new Uint8Array(64), position: 0 }, { op: "nop" }]));
      expect(soft[0]).toEqual({ status: "fulfilled", value: 5 });
      expect((soft[1] as PromiseRejectedResult).reason?.code).toBe("ECANCELED");
      const hard = await Promise.all(io.link([{ op: "read", fd, buffer: new Uint8Array(64), position: 0 }, { op: "nop" }], { hard: true }));
      expect(hard).toEqual([5, 0]);
    } finally {
      closeSync(fd);
    }
  });

  test("io.link([...]): a chain longer than the SQ is refused; a chain on a small ring still runs", async () => {
    await using small = new Uring({ entries: 4 });
    expect((await caught(() => small.link(Array.from({ length: 5 }, () => ({ op: "nop" as const }))))).code).toBe("ERR_OUT_OF_RANGE");
    expect((await caught(() => small.link([])))).toBeInstanceOf(TypeError);
    // a full-size chain plus other ops queued ahead of it
    const others = Array.from({ length: 10 }, () => small.nop());
    const chain = small.link(Array.from({ length: 4 }, () => ({ op: "nop" as const })));
    expect(await Promise.all([...others, ...chain])).toEqual(new Array(14).fill(0));
  });

  test("nothing is left in flight or queued after the method suite", async () => {
    await Bun.sleep(1);
    expect(io.inFlight).toBe(0);
    expect(io.queued).toBe(0);
    expect(readdirSync(dir.path).length).toBeGreaterThan(0);
  });
});

describeKernel("Uring: raw operations on the safe queue", () => {
  test("enqueueLinked runs open_direct → read → close_direct with one callback per CQE", async () => {
    const { prepOpenatDirect, prepRead, prepCloseDirect, AT_FDCWD, O_RDONLY, IOSQE_FIXED_FILE } = await import("../lib/index.ts");
    await using io = new Uring();
    io.ring.registerFilesSparse(4);
    const dir = tempDir();
    try {
      const path = join(dir.path, "raw.txt");
      await io.writeFile(path, "raw ops");
      const buf = new Uint8Array(7);
      const got: [string, number][] = [];
      await new Promise<void>((resolve) => {
        io.enqueueLinked([
          { prep: (s) => prepOpenatDirect(s, AT_FDCWD, path, O_RDONLY, 0, 3), done: (r) => got.push(["open", r]) },
          {
            prep: (s) => {
              prepRead(s, 3, buf, 0);
              s.flags = IOSQE_FIXED_FILE;
            },
            done: (r) => got.push(["read", r]),
            keep: buf,
          },
          { prep: (s) => prepCloseDirect(s, 3), done: (r) => (got.push(["close", r]), resolve()) },
        ]);
      });
      expect(got).toEqual([
        ["open", 0],
        ["read", 7],
        ["close", 0],
      ]);
      expect(new TextDecoder().decode(buf)).toBe("raw ops");
    } finally {
      dir.cleanup();
    }
  });

  test("close() tells queued raw operations -ECANCELED instead of dropping them", async () => {
    const { prepNop } = await import("../lib/index.ts");
    const io = new Uring({ entries: 2 });
    const results: number[] = [];
    for (let i = 0; i < 10; i++) io.enqueue((s) => prepNop(s), (r) => results.push(r));
    await io.close(); // same tick: nothing has been flushed yet
    expect(results).toHaveLength(10);
    expect(results.every((r) => r === -125)).toBe(true);
    expect(() => io.enqueue((s) => prepNop(s), () => {})).toThrow(expect.objectContaining({ code: "ERR_URING_CLOSED" }));
  });
});
