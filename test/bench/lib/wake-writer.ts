/**
 * The other side of the wake-up bench: a separate process that writes one
 * 8-byte message to a FIFO every `intervalMs`, each carrying
 * CLOCK_MONOTONIC (`lib/clock.ts`) read just before the write(2). The reader takes
 * the same clock when its continuation runs, so the difference is the time
 * from "the data is in the kernel" (plus one pipe write) to "the awaiting
 * code runs", with no clock alignment between processes needed: both read
 * the same system clock (not Bun's `process.hrtime`, whose zero is per process).
 *
 * Usage: bun test/bench/lib/wake-writer.ts FIFO [intervalMs=1] [maxSeconds=30]
 * Stops by itself after maxSeconds, when the reader goes away (EPIPE), or on SIGTERM.
 */
import { openSync, writeSync } from "node:fs";
import { monotonicNs } from "./clock.ts";

const [fifo, intervalArg = "1", maxArg = "30"] = process.argv.slice(2);
if (!fifo) {
  console.error("usage: bun test/bench/lib/wake-writer.ts FIFO [intervalMs] [maxSeconds]");
  process.exit(2);
}
const intervalMs = Number(intervalArg);
const deadline = performance.now() + Number(maxArg) * 1000;
process.on("SIGTERM", () => process.exit(0));

const fd = openSync(fifo, "w");
const msg = new BigUint64Array(1);
const bytes = new Uint8Array(msg.buffer);
while (performance.now() < deadline) {
  Bun.sleepSync(intervalMs);
  msg[0] = monotonicNs();
  try {
    writeSync(fd, bytes);
  } catch {
    break; // EPIPE: the reader is gone
  }
}
process.exit(0);
