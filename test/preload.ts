/**
 * Decided once, before any test file loads: can this process use io_uring?
 * Kernel tests go through `kernelTest` / `describeKernel` (test/helpers.ts),
 * which skip with this reason — never fail — when it cannot.
 */
import { closeFd, ioUringSetup } from "../ffi/syscalls.ts";
import { errnoName } from "../lib/errors.ts";
import { addressOf } from "../lib/memory.ts";

const params = new Uint32Array(30);
const fd = ioUringSetup(1, addressOf(params));
if (fd >= 0) closeFd(fd);
const reason =
  fd >= 0
    ? ""
    : `io_uring_setup failed with ${errnoName(fd)} (kernel.io_uring_disabled=${await Bun.file("/proc/sys/kernel/io_uring_disabled").text().catch(() => "?")})`;
(globalThis as { __BUN_URING_UNAVAILABLE__?: string }).__BUN_URING_UNAVAILABLE__ = reason;
if (reason) console.warn(`bun-uring tests: kernel tests are skipped: ${reason}`);
