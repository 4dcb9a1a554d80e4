/**
 * Stress: a million operations with full garbage collections interleaved and buffers of every
 * size class (no corrupted byte), 16× the CQ size outstanding (no lost completion), thousands of
 * operations queued behind a full SQ, and signals delivered while a thread waits in
 * io_uring_enter (no lost or duplicated completion).
 *
 * CI runs it bounded; BUN_URING_STRESS=1 runs ten times more (BUN_URING_STRESS=n: n× more).
 */
import { expect } from "bun:test";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IoUring, prepNop, prepRead, prepTimeout, Timespec, Uring, type Cqe } from "../lib/index.ts";
import { kernelTest as test, prng, tempDir } from "./helpers.ts";

const SCALE = process.env.BUN_URING_STRESS ? Math.max(10, Number(process.env.BUN_URING_STRESS) || 10) : 1;
const root = join(import.meta.dir, "..");

/** Buffer size classes: inline typed arrays (≤ 1000 elements move on first .buffer touch), their edges, pages, big. */
const SIZES = [1, 3, 8, 63, 64, 100, 512, 999, 1000, 1001, 1024, 4095, 4096, 4097, 16384, 65536];
const PATTERN_BYTES = 1 << 20;

function makePattern(dir: string): { path: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(PATTERN_BYTES);
  const r = prng(0xc0ffee);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (r() * 256) | 0;
  const path = join(dir, "pattern.bin");
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** A fresh view of `size` bytes in one of several shapes: plain, Buffer pool slice, odd-offset subarray, DataView, u32. */
function freshView(kind: number, size: number): ArrayBufferView {
  switch (kind % 5) {
    case 0:
      return new Uint8Array(size);
    case 1:
      return Buffer.allocUnsafe(size).fill(0); // small ones are slices of Buffer's shared pool
    case 2:
      return new Uint8Array(size + 16).subarray(3, 3 + size);
    case 3:
      return new DataView(new ArrayBuffer(size + 8), 5, size);
    default:
      return size % 4 === 0 ? new Uint32Array(size / 4) : new Uint8Array(size);
  }
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

test(
  `${SCALE}M operations with Bun.gc(true) interleaved: every byte of every size class intact`,
  async () => {
    const dir = tempDir("bun-uring-stress-");
    const { path, bytes: pattern } = makePattern(dir.path);
    const fd = openSync(path, "r");
    const r = prng(7);
    let corrupted = 0;
    let firstBad = "";
    let done = 0;
    const check = (view: ArrayBufferView, off: number, res: number, what: string) => {
      const len = view.byteLength;
      if (res !== len) {
        corrupted++;
        firstBad ||= `${what}: res ${res}, expected ${len}`;
        return;
      }
      if (Buffer.compare(bytesOf(view), pattern.subarray(off, off + len)) !== 0) {
        corrupted++;
        firstBad ||= `${what}: ${len} bytes at ${off} differ from the file`;
      }
    };
    try {
      // --- the raw tier: 600k reads in batches of 256, GC between submit and reap every 16th batch
      const rawOps = 600_000 * SCALE;
      for (const memory of ["shared", "mmap"] as const) {
        using ring = new IoUring(256, { memory });
        const views: ArrayBufferView[] = new Array(256);
        const offs = new Int32Array(256);
        let batch = 0;
        for (let n = 0; n < rawOps / 2; batch++) {
          const count = Math.min(256, rawOps / 2 - n);
          for (let k = 0; k < count; k++) {
            const size = SIZES[(n + k) % SIZES.length]!;
            const view = freshView(n + k + batch, size);
            const off = Math.floor(r() * (PATTERN_BYTES - size));
            views[k] = view;
            offs[k] = off;
            const sqe = ring.getSqe()!;
            prepRead(sqe, fd, view, off);
            sqe.userData = k;
          }
          if (batch % 16 === 0) {
            ring.submit();
            Bun.gc(true); // the kernel is writing into these buffers right now
            ring.submitAndWait(count);
          } else ring.submitAndWait(count);
          let seen = 0;
          while (seen < count) {
            if (ring.cqReady() === 0) ring.waitCqe();
            seen += ring.forEachCqe((cqe: Cqe) => check(views[cqe.userData]!, offs[cqe.userData]!, cqe.res, `raw ${memory} read ${n + cqe.userData}`));
          }
          n += count;
          done += count;
          if (batch % 64 === 63) Bun.gc(true);
        }
      }

      // --- the Uring tier: 400k reads and nops, 512 at a time, GC while they are in flight
      const uringOps = 400_000 * SCALE;
      await using io = new Uring({ entries: 128 });
      for (let n = 0, round = 0; n < uringOps; round++) {
        const count = Math.min(512, uringOps - n);
        const pending: Promise<void>[] = [];
        for (let k = 0; k < count; k++) {
          if (k % 4 === 3) {
            pending.push(io.nop().then((res) => void (res !== 0 && corrupted++)));
            continue;
          }
          const size = SIZES[(n + k) % SIZES.length]!;
          const view = freshView(n + k + round, size);
          const off = Math.floor(r() * (PATTERN_BYTES - size));
          pending.push(io.read(fd, view, off).then((res) => check(view, off, res, `Uring read ${n + k}`)));
        }
        if (round % 8 === 0) Bun.gc(true);
        await Promise.all(pending);
        n += count;
        done += count;
        if (round % 32 === 31) Bun.gc(true);
      }
    } finally {
      closeSync(fd);
      dir.cleanup();
    }
    expect(firstBad).toBe("");
    expect(corrupted).toBe(0);
    expect(done).toBe(1_000_000 * SCALE);
  },
  120_000 * SCALE,
);

test("16× the CQ size outstanding on the raw ring: every completion arrives once (the kernel's overflow list)", () => {
  for (const memory of ["shared", "mmap"] as const) {
    using ring = new IoUring(8, { memory, cqEntries: 8 });
    const total = 16 * ring.cqEntries * SCALE;
    const ts = new Timespec(1);
    const seen = new Uint8Array(total);
    let submitted = 0;
    while (submitted < total) {
      const sqe = ring.getSqe();
      if (!sqe) {
        ring.submit(); // never reaps: the CQ fills and overflows
        continue;
      }
      if (submitted % 3 === 0) prepTimeout(sqe, ts);
      else prepNop(sqe);
      sqe.userData = submitted++;
    }
    ring.submit();
    expect(ring.cqReady()).toBeLessThanOrEqual(ring.cqEntries);
    let reaped = 0;
    let dup = 0;
    let bad = 0;
    while (reaped < total) {
      ring.waitCqe();
      reaped += ring.forEachCqe((c) => {
        const id = c.userData;
        if (id >= total) bad++;
        else if (seen[id]) dup++;
        else seen[id] = 1;
        const want = id % 3 === 0 ? -62 : 0; // -ETIME for the timeouts
        if (c.res !== want) bad++;
      });
    }
    expect({ reaped, dup, bad }).toEqual({ reaped: total, dup: 0, bad: 0 });
    expect(seen.every((s) => s === 1)).toBe(true);
    expect(ring.waitCqeTimeout(5)).toBeNull(); // and nothing more
    expect(ring.cqOverflow()).toBe(0); // NODROP: nothing was dropped, only held
  }
});

test("16× the CQ size outstanding in a Uring (maxInFlight above the CQ): every promise settles right", async () => {
  await using io = new Uring({ entries: 4, cqEntries: 8, maxInFlight: 16 * 8 });
  const total = 16 * 8 * 4 * SCALE;
  const results = await Promise.all(
    Array.from({ length: total }, (_, k) => (k % 5 === 0 ? io.sleep(1).then(() => -1) : io.nop().then(() => k))),
  );
  expect(results.filter((x, k) => (k % 5 === 0 ? x !== -1 : x !== k))).toEqual([]);
  expect(io.inFlight).toBe(0);
});

test("thousands of operations queued behind a full SQ all complete, in their own buffers", async () => {
  const dir = tempDir("bun-uring-stress-");
  const { path, bytes } = makePattern(dir.path);
  const fd = openSync(path, "r");
  try {
    await using io = new Uring({ entries: 2, maxInFlight: 4 });
    const n = 5000 * SCALE;
    const bufs = Array.from({ length: n }, (_, k) => new Uint8Array(1 + (k % 300)));
    const all = bufs.map((b, k) => io.read(fd, b, k * 97));
    expect(io.queued).toBeGreaterThan(n - 10); // almost all wait in the JS queue
    const res = await Promise.all(all);
    let bad = 0;
    for (let k = 0; k < n; k++) {
      if (res[k] !== bufs[k]!.length || Buffer.compare(bufs[k]!, bytes.subarray(k * 97, k * 97 + bufs[k]!.length)) !== 0) bad++;
    }
    expect(bad).toBe(0);
    expect(io.queued).toBe(0);
  } finally {
    closeSync(fd);
    dir.cleanup();
  }
});

/** The child for the EINTR test: waits in io_uring_enter (raw) and on the event loop (Uring) while signals arrive. */
const EINTR_CHILD = `
import { IoUring, prepTimeout, prepNop, Timespec, Uring } from ${JSON.stringify(join(root, "lib/index.ts"))};
let signals = 0;
process.on("SIGUSR1", () => { signals++; });
process.on("SIGUSR2", () => { signals++; });
console.log("ready");
const total = Number(process.argv.at(-1));
const ring = new IoUring(16);
const ts = new Timespec(2);
const seen = new Uint8Array(total);
let dup = 0, bad = 0, reaped = 0;
for (let id = 0; id < total; ) {
  for (let k = 0; k < 8 && id < total; k++, id++) {
    const sqe = ring.getSqe();
    if (id % 2) prepTimeout(sqe, ts); else prepNop(sqe);
    sqe.userData = id;
  }
  ring.submit();
  // block in io_uring_enter until all of this batch arrived: signals interrupt the wait
  while (reaped < id) {
    ring.waitCqeNr(id - reaped);
    reaped += ring.forEachCqe((c) => {
      if (seen[c.userData]) dup++; else seen[c.userData] = 1;
      if (c.res !== (c.userData % 2 ? -62 : 0)) bad++;
    });
  }
  await Bun.sleep(0); // let the signal handlers run
}
// phase 2: single 20 ms waits, each long enough for a signal to interrupt it (EINTR, retried)
const long = new Timespec(20);
const before = ring.enterCount;
let longOk = 0;
for (let k = 0; k < 40; k++) {
  const sqe = ring.getSqe();
  prepTimeout(sqe, long);
  sqe.userData = 1e6 + k;
  ring.submit();
  const c = ring.waitCqe();
  if (c.userData === 1e6 + k && c.res === -62) longOk++;
  ring.cqeSeen(c);
  if (ring.cqReady() !== 0) bad++;
  await Bun.sleep(0);
}
const waitEnters = ring.enterCount - before - 40; // minus the 40 submits
ring.close();
const io = new Uring({ entries: 8 });
const sleeps = await Promise.all(Array.from({ length: 200 }, (_, k) => io.sleep(1 + (k % 3)).then(() => k)));
await io.close();
console.log(JSON.stringify({ reaped, dup, bad, missing: seen.filter((s) => !s).length, sleeps: sleeps.filter((k, i) => k === i).length, signals, longOk, waitEnters }));
`;

test("signals delivered during io_uring_enter waits: no lost or duplicated completions", async () => {
  const dir = tempDir("bun-uring-eintr-");
  try {
    const script = join(dir.path, "eintr-child.ts");
    writeFileSync(script, EINTR_CHILD);
    const total = 2000 * SCALE;
    const child = Bun.spawn(["bun", script, String(total)], { stdout: "pipe", stderr: "pipe" });
    const reader = child.stdout.getReader();
    let out = "";
    while (!out.includes("ready\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    let sent = 0;
    const timer = setInterval(() => {
      try {
        process.kill(child.pid, sent % 2 ? "SIGUSR2" : "SIGUSR1");
        sent++;
      } catch {}
    }, 1);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    clearInterval(timer);
    const code = await child.exited;
    const err = await new Response(child.stderr).text();
    expect(err).toBe("");
    expect(code).toBe(0);
    const result = JSON.parse(out.trim().split("\n").at(-1)!);
    expect(result).toMatchObject({ reaped: total, dup: 0, bad: 0, missing: 0, sleeps: 200 });
    expect(result.signals).toBeGreaterThan(10); // the signals really arrived while it worked
    expect(result.longOk).toBe(40);
    // 40 waits took more enters than 40: signals interrupted io_uring_enter (EINTR) and the ring retried
    expect(result.waitEnters).toBeGreaterThan(40);
    expect(sent).toBeGreaterThan(10);
  } finally {
    dir.cleanup();
  }
}, 60_000);
