/**
 * 11-worker-reaper — a ring shared with a Worker: the main thread submits, the Worker reaps.
 *
 * Usage: bun examples/11-worker-reaper.ts [FILE]   (default: a generated 8 MiB file)
 *
 * What it teaches:
 * - The rings live in SharedArrayBuffers (IORING_SETUP_NO_MMAP), so a Worker
 *   can build its own views over the very same SQ/CQ memory: `ring.share()`
 *   describes the ring as plain data + SABs, `IoUring.attach()` rebuilds it.
 * - One writer per index: the main thread writes the SQ tail (submitter), the
 *   Worker writes the CQ head (reaper). `share("reaper")` hands that role over,
 *   and the main handle then refuses to reap.
 * - The data buffers are SharedArrayBuffers too, so the Worker can hash the
 *   bytes the kernel read, and the main thread keeps them alive until every
 *   CQE has been reaped.
 *
 * Minimum kernel: Linux 6.5 (IORING_SETUP_NO_MMAP). Not with SINGLE_ISSUER
 * (the Worker could not submit) or DEFER_TASKRUN (completions would only run
 * when the main thread enters the kernel, and the Worker would wait forever).
 */
import { closeSync, fstatSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IoUring, prepRead, type SharedRing } from "../lib/index.ts";

const BLOCK = 64 * 1024;

interface Job {
  shared: SharedRing;
  data: SharedArrayBuffer;
  blocks: number;
  reaped: Int32Array;
}

interface Result {
  hashes: string[];
  seen: number[];
}

function hash(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

declare const self: Worker;

if (Bun.isMainThread) {
  let path = process.argv[2];
  let generated = false;
  if (!path) {
    path = join(tmpdir(), `bun-uring-11-${process.pid}.bin`);
    writeFileSync(path, crypto.getRandomValues(new Uint8Array(8 * 1024 * 1024 + 1234)));
    generated = true;
  }
  const fd = openSync(path, "r");
  const size = fstatSync(fd).size;
  const blocks = Math.ceil(size / BLOCK);
  // One SharedArrayBuffer holds every block: the kernel writes into it, the Worker reads it.
  const data = new SharedArrayBuffer(Math.max(1, blocks) * BLOCK);
  const reaped = new Int32Array(new SharedArrayBuffer(4));

  using ring = new IoUring(32, { memory: "shared" });
  const worker = new Worker(import.meta.url);
  const result = new Promise<Result>((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = reject;
  });
  worker.postMessage({ shared: ring.share("reaper"), data, blocks, reaped } satisfies Job);

  // Submit one read per block, never more in flight than the CQ holds.
  let next = 0;
  while (next < blocks) {
    const room = ring.cqEntries - (next - Atomics.load(reaped, 0));
    if (room <= 0) {
      await Bun.sleep(0); // let the Worker catch up
      continue;
    }
    for (let n = 0; n < room && next < blocks; n++) {
      const sqe = ring.getSqe();
      if (!sqe) break;
      prepRead(sqe, fd, new Uint8Array(data, next * BLOCK, BLOCK), next * BLOCK);
      sqe.userData = next++;
    }
    ring.submit();
  }
  const { hashes, seen } = await result;
  worker.terminate();
  closeSync(fd);

  // Check against a plain read of the same file.
  const whole = readFileSync(path);
  let bad = 0;
  for (let b = 0; b < blocks; b++) {
    if (hashes[b] !== hash(whole.subarray(b * BLOCK, Math.min(size, (b + 1) * BLOCK)))) bad++;
  }
  const once = seen.every((n) => n === 1);
  console.log(`file: ${size} bytes in ${blocks} blocks of ${BLOCK}`);
  console.log(`memory: ${ring.memory.mode}; submitted on the main thread, reaped in a Worker`);
  console.log(`completions seen exactly once: ${once ? "yes" : "NO"} (${seen.length} blocks)`);
  console.log(`hashes matching a plain read: ${blocks - bad}/${blocks}`);
  if (generated) rmSync(path);
  if (!once || bad) process.exit(1);
} else {
  self.onmessage = (e: MessageEvent<Job>) => {
    const { shared, data, blocks, reaped } = e.data;
    const ring = IoUring.attach(shared); // the reaper: reads CQEs, writes the CQ head
    const hashes: string[] = new Array(blocks);
    const seen: number[] = new Array(blocks).fill(0);
    let done = 0;
    while (done < blocks) {
      ring.waitCqe();
      ring.forEachCqe((cqe) => {
        const b = cqe.userData;
        if (cqe.res < 0) throw new Error(`read of block ${b} failed: ${cqe.res}`);
        seen[b]!++;
        hashes[b] = hash(new Uint8Array(data, b * BLOCK, cqe.res));
        done++;
      });
      Atomics.store(reaped, 0, done);
    }
    ring.close(); // drops the Worker's views; the owner closes the fd
    self.postMessage({ hashes, seen } satisfies Result);
  };
}
