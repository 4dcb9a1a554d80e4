/**
 * Leaks: 100k open/read/close cycles through a Uring leave the fd count where it was and RSS
 * flat (within bounds loose enough for GC noise, tight enough to catch a leak of one buffer,
 * fd or Op per cycle: 100k × 4 KiB would be 400 MiB). BUN_URING_STRESS=1 runs 1M cycles.
 */
import { expect } from "bun:test";
import { readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Uring } from "../lib/index.ts";
import { kernelTest as test, tempDir } from "./helpers.ts";

const CYCLES = process.env.BUN_URING_STRESS ? 1_000_000 : 100_000;
const MiB = 1024 * 1024;

const fdCount = () => readdirSync("/proc/self/fd").length;

/** Open fds pointing into `dir`: what a leaking open/close cycle leaves behind. */
function fdsInto(dir: string): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) n++;
    } catch {
      // gone since readdir
    }
  }
  return n;
}

function settle(): number {
  Bun.gc(true);
  Bun.gc(true);
  return process.memoryUsage().rss;
}

test(
  `${CYCLES / 1000}k open/read/close cycles: fd count unchanged, RSS growth < 64 MiB`,
  async () => {
    const dir = tempDir("bun-uring-leak-");
    try {
      const files = Array.from({ length: 8 }, (_, k) => {
        const p = join(dir.path, `f${k}`);
        writeFileSync(p, Buffer.alloc(4096 + k * 100, k + 1));
        return p;
      });
      await using io = new Uring({ entries: 64 });
      let bad = 0;
      let done = 0;
      /** One cycle: openFd + read + closeFd, or open() + FileHandle read + close(). */
      const cycle = async (n: number) => {
        const path = files[n % files.length]!;
        const want = 4096 + (n % files.length) * 100;
        const buf = new Uint8Array(8192);
        if (n % 2 === 0) {
          const fd = await io.openFd(path, "r");
          const got = await io.read(fd, buf, 0);
          await io.closeFd(fd);
          if (got !== want || buf[0] !== (n % files.length) + 1) bad++;
        } else {
          const f = await io.open(path, "r");
          const got = await f.read(buf, 0);
          await f.close();
          if (got !== want || buf[want - 1] !== (n % files.length) + 1) bad++;
        }
        done++;
      };
      const run = async (count: number) => {
        let next = 0;
        // 32 cycles in flight at a time
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            while (next < count) await cycle(next++);
          }),
        );
      };
      await run(5_000); // warm-up: JIT, pools, allocator high-water marks
      const fds0 = fdCount();
      expect(fdsInto(dir.path)).toBe(0);
      const rss0 = settle();
      await run(CYCLES);
      const fds1 = fdCount();
      const rss1 = settle();
      expect(bad).toBe(0);
      expect(done).toBe(5_000 + CYCLES);
      expect(io.inFlight).toBe(0);
      expect(fdsInto(dir.path)).toBe(0); // not one of the 100k files is still open
      // and the process as a whole: flat (a little slack for other tests' asynchronous closes)
      expect(fds1).toBeLessThanOrEqual(fds0 + 2);
      const growth = rss1 - rss0;
      console.log(`leaks: ${CYCLES} cycles, fds ${fds0} → ${fds1}, RSS ${(rss0 / MiB).toFixed(1)} → ${(rss1 / MiB).toFixed(1)} MiB`);
      expect(growth).toBeLessThan(64 * MiB);
    } finally {
      dir.cleanup();
    }
  },
  120_000,
);
