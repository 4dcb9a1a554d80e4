/**
 * Faults: io_uring disabled by sysctl, a small RLIMIT_MEMLOCK, an fd closed under an operation in
 * flight, a ring closed with operations in flight, a process exiting with work pending, and a
 * SINGLE_ISSUER ring entered from another thread. Each ends in a clear error or a clean finish —
 * never a crash, a hang or a promise that never settles.
 */
import { expect } from "bun:test";
import { closeSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pipe2 } from "../ffi/syscalls.ts";
import { addressOf, IoUring, prepNop, prepRead, prepTimeout, Timespec, Uring, UringError } from "../lib/index.ts";
import { caught, kernelTest as test, tempDir } from "./helpers.ts";

const LIB = JSON.stringify(join(import.meta.dir, "..", "lib", "index.ts"));
const isRoot = process.getuid?.() === 0;
const hasSetpriv = Bun.which("setpriv") !== null;
const hasPrlimit = Bun.which("prlimit") !== null;

/** What an fd number points at now ("" once closed). */
function fdTarget(fd: number): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return "";
  }
}

function makePipe(): [number, number] {
  const fds = new Int32Array(2);
  const r = pipe2(addressOf(fds));
  if (r < 0) throw new UringError(r, "pipe2");
  return [fds[0]!, fds[1]!];
}

/** Write `code` to a temp script (importing the library as LIB) and run it with `prefix` (setpriv, prlimit …). */
async function runScript(
  code: string,
  prefix: string[] = [],
  opts: { stdin?: "pipe"; onReady?: (child: Bun.Subprocess<"pipe", "pipe", "pipe">) => Promise<void> | void } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const dir = tempDir("bun-uring-fault-");
  try {
    const script = join(dir.path, "child.ts");
    writeFileSync(script, code.replaceAll("LIB", LIB));
    const child = Bun.spawn([...prefix, process.execPath, script], { stdin: "pipe", stdout: "pipe", stderr: "pipe", cwd: "/" });
    const killer = setTimeout(() => child.kill(), 20_000);
    let out = "";
    const reader = child.stdout.getReader();
    const dec = new TextDecoder();
    let readyDone = !opts.onReady;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += dec.decode(value);
      if (!readyDone && out.includes("ready\n")) {
        readyDone = true;
        await opts.onReady!(child as never);
      }
    }
    const exit = await child.exited;
    clearTimeout(killer);
    return { code: exit, out, err: await new Response(child.stderr).text() };
  } finally {
    dir.cleanup();
  }
}

function lastJson(out: string): Record<string, any> {
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

test.skipIf(!isRoot || !hasSetpriv)("io_uring disabled by kernel.io_uring_disabled: construction throws UringError EPERM naming the sysctl", async () => {
  // Value 1 disables io_uring only for processes without CAP_SYS_ADMIN outside kernel.io_uring_group:
  // the child drops CAP_SYS_ADMIN, everything else on the machine keeps working. The sysctl is set
  // only between the child's "ready" and its answer, and always restored.
  const knob = "/proc/sys/kernel/io_uring_disabled";
  // another test (ring.test.ts) may hold the knob at 2 for a moment: wait for it
  for (let k = 0; k < 100 && (await Bun.file(knob).text()).trim() !== "0"; k++) await Bun.sleep(20);
  const before = (await Bun.file(knob).text()).trim();
  expect(before).toBe("0");
  const r = await runScript(
    `import { IoUring, Uring } from LIB;
     console.log("ready");
     for await (const _ of console) break; // wait for the parent to flip the sysctl
     const out = {};
     for (const [k, make] of [["raw", () => new IoUring(4)], ["uring", () => new Uring()]]) {
       try { make(); out[k] = "created"; } catch (e) { out[k] = { name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, message: e.message }; }
     }
     console.log(JSON.stringify(out));`,
    ["setpriv", "--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--clear-groups", "--"],
    {
      onReady: async (child) => {
        try {
          writeFileSync("/proc/sys/kernel/io_uring_disabled", "1");
          child.stdin.write("go\n");
          await child.stdin.flush();
          child.stdin.end();
          // the child answers within milliseconds; restore as soon as it exited
          await Promise.race([child.exited, Bun.sleep(5000)]);
        } finally {
          writeFileSync("/proc/sys/kernel/io_uring_disabled", "0");
        }
      },
    },
  );
  expect((await Bun.file("/proc/sys/kernel/io_uring_disabled").text()).trim()).toBe("0");
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  const out = lastJson(r.out);
  expect(out.raw).toMatchObject({ name: "UringError", code: "EPERM", errno: -1, syscall: "io_uring_setup" });
  expect(out.raw.message).toContain("kernel.io_uring_disabled");
  expect(out.raw.message).toContain("seccomp");
  expect(out.uring).toMatchObject({ name: "UringError", code: "EPERM" });
});

test.skipIf(!isRoot || !hasSetpriv || !hasPrlimit)(
  "a small RLIMIT_MEMLOCK: registerBuffers throws ENOMEM naming RLIMIT_MEMLOCK and its current value; setup too",
  async () => {
    // Root with CAP_IPC_LOCK is exempt from io_uring's memory accounting: the child drops it.
    const r = await runScript(
      `import { IoUring } from LIB;
       const out = {};
       for (const memory of ["shared", "mmap"]) {
         const ring = new IoUring(4, { memory });
         try { ring.registerBuffers([new Uint8Array(1 << 20)]); out[memory] = "registered"; }
         catch (e) { out[memory] = { name: e.name, code: e.code, syscall: e.syscall, message: e.message }; }
         // a buffer that fits still registers on the same ring
         try { ring.registerBuffers([new Uint8Array(4096)]); out[memory + "Small"] = "registered"; } catch (e) { out[memory + "Small"] = e.code; }
         ring.close();
       }
       console.log(JSON.stringify(out));`,
      ["setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "--", "prlimit", "--memlock=262144:262144", "--"],
    );
    expect(r.err).toBe("");
    const out = lastJson(r.out);
    for (const memory of ["shared", "mmap"]) {
      expect(out[memory]).toMatchObject({ name: "UringError", code: "ENOMEM", syscall: "io_uring_register(registerBuffers)" });
      expect(out[memory].message).toContain("RLIMIT_MEMLOCK");
      expect(out[memory].message).toContain("262144 bytes");
      expect(out[`${memory}Small`]).toBe("registered");
    }
    // a limit too small for the rings themselves: setup fails the same clear way
    const s = await runScript(
      `import { IoUring } from LIB;
       try { new IoUring(4); console.log(JSON.stringify({ created: true })); }
       catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message })); }`,
      ["setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "--", "prlimit", "--memlock=0:0", "--"],
    );
    expect(s.err).toBe("");
    const so = lastJson(s.out);
    expect(so).toMatchObject({ code: "ENOMEM", syscall: "io_uring_setup" });
    expect(so.message).toContain("RLIMIT_MEMLOCK");
    expect(so.message).toContain("0 bytes");
  },
  30_000,
);

test("an fd closed while a read on it is in flight: the read still completes (the kernel holds the file)", async () => {
  await using io = new Uring({ entries: 8 });
  const [r1, w1] = makePipe();
  const buf = new Uint8Array(16);
  const pending = io.read(r1, buf);
  await Bun.sleep(5);
  closeSync(r1); // the fd number is gone; the in-flight read keeps its file
  const data = Buffer.from("still here");
  expect(await io.write(w1, data)).toBe(data.length);
  expect(await pending).toBe(data.length);
  expect(Buffer.from(buf.subarray(0, data.length)).toString()).toBe("still here");

  // the same with the other end closed: EOF, not a hang or a crash
  const [r2, w2] = makePipe();
  const eof = io.read(r2, new Uint8Array(8));
  await Bun.sleep(5);
  closeSync(r2);
  closeSync(w2);
  expect(await eof).toBe(0);
  closeSync(w1);
  // and a new op on the closed fd number is a clean EBADF
  const bad = await caught(() => io.read(r2, new Uint8Array(8)));
  expect(bad).toBeInstanceOf(UringError);
  expect(bad.code).toBe("EBADF");
});

test("a raw ring closed with operations in flight: no crash, its fd is closed, stale handles read nothing", () => {
  for (const memory of ["shared", "mmap"] as const) {
    const [rfd, wfd] = makePipe();
    const ring = new IoUring(64, { memory });
    const ringFd = ring.fd;
    expect(fdTarget(ringFd)).toBe("anon_inode:[io_uring]");
    const ts = new Timespec(60_000);
    const buf = new Uint8Array(64);
    prepTimeout(ring.getSqe()!, ts);
    prepRead(ring.getSqe()!, rfd, buf, -1);
    for (let k = 0; k < 40; k++) {
      const sqe = ring.getSqe()!;
      prepNop(sqe);
      sqe.userData = 0x1234 + k;
    }
    ring.submit();
    const stale = ring.waitCqe(); // a CQE handle kept past close()
    expect(stale.userData).toBe(0x1234);
    ring.close();
    expect(ring.closed).toBe(true);
    // the handle now reads an empty view — never the unmapped ring (that would be SIGSEGV in mmap mode)
    expect(stale.userData).not.toBe(0x1234);
    expect(() => ring.getSqe()).toThrow(expect.objectContaining({ code: "ERR_URING_CLOSED" }));
    expect(() => ring.submit()).toThrow(expect.objectContaining({ code: "ERR_URING_CLOSED" }));
    expect(() => ring.peekCqe()).toThrow(expect.objectContaining({ code: "ERR_URING_CLOSED" }));
    ring.close(); // idempotent
    expect(fdTarget(ringFd)).not.toBe("anon_inode:[io_uring]"); // the ring fd is closed
    Bun.gc(true); // memory the kernel may still write stays quarantined: nothing to corrupt
    new Uint8Array(1 << 20).fill(1);
    closeSync(rfd);
    closeSync(wfd);
  }
});

test("a Uring closed with operations in flight: every promise settles, nothing leaks", async () => {
  const io = new Uring({ entries: 16 });
  const ringFd = io.ring.fd;
  expect(fdTarget(ringFd)).toBe("anon_inode:[io_uring]");
  const [rfd, wfd] = makePipe();
  const reads = Array.from({ length: 4 }, () => io.read(rfd, new Uint8Array(8)));
  const sleeps = Array.from({ length: 4 }, () => io.sleep(60_000));
  const nops = Array.from({ length: 100 }, () => io.nop()); // more than fit: some still queued in JS
  const closing = io.close();
  const all = await Promise.race([
    Promise.allSettled([...reads, ...sleeps, ...nops]),
    Bun.sleep(10_000).then(() => "hung" as const),
  ]);
  await closing;
  expect(all).not.toBe("hung");
  const settled = all as PromiseSettledResult<unknown>[];
  expect(settled.length).toBe(108);
  for (const s of settled.slice(0, 8)) {
    expect(s.status).toBe("rejected"); // a pipe read and a 60 s sleep cannot have finished
    const code = (s as PromiseRejectedResult).reason?.code;
    expect(["ABORT_ERR", "ECANCELED", "ERR_URING_CLOSED"]).toContain(code);
  }
  for (const s of settled.slice(8)) {
    if (s.status === "rejected") expect(["ABORT_ERR", "ECANCELED", "ERR_URING_CLOSED"]).toContain((s as PromiseRejectedResult).reason?.code);
    else expect(s.value).toBe(0);
  }
  expect(io.closed).toBe(true);
  expect(io.inFlight).toBe(0);
  await expect(io.nop()).rejects.toMatchObject({ code: "ERR_URING_CLOSED" });
  closeSync(rfd);
  closeSync(wfd);
  expect(fdTarget(ringFd)).not.toBe("anon_inode:[io_uring]"); // the ring fd is closed
});

test("a process that exits with work in flight exits cleanly (code 0, nothing on stderr)", async () => {
  // process.exit() with Uring reads on a pipe, kernel sleeps and raw-ring timeouts pending
  const a = await runScript(
    `import { IoUring, prepTimeout, Timespec, Uring } from LIB;
     import { pipe2 } from ${JSON.stringify(join(import.meta.dir, "..", "ffi", "syscalls.ts"))};
     const io = new Uring({ entries: 8 });
     const fds = new Int32Array(2); pipe2(fds);
     const reads = Array.from({ length: 3 }, () => io.read(fds[0], new Uint8Array(64)));
     const sleeps = Array.from({ length: 3 }, () => io.sleep(60_000));
     const ring = new IoUring(8);
     const ts = new Timespec(60_000);
     for (let k = 0; k < 4; k++) prepTimeout(ring.getSqe(), ts);
     ring.submit();
     await io.nop();
     console.log(JSON.stringify({ inFlight: io.inFlight }));
     process.exit(0);`,
  );
  expect(a.err).toBe("");
  expect(a.code).toBe(0);
  expect(lastJson(a.out).inFlight).toBeGreaterThanOrEqual(6);
  // no process.exit(): raw-ring work does not hold the event loop, so the script ends by itself
  const b = await runScript(
    `import { IoUring, prepTimeout, Timespec } from LIB;
     const ring = new IoUring(8);
     const ts = new Timespec(60_000);
     for (let k = 0; k < 4; k++) prepTimeout(ring.getSqe(), ts);
     ring.submit();
     console.log(JSON.stringify({ pending: 4 }));`,
  );
  expect(b.err).toBe("");
  expect(b.code).toBe(0);
  expect(lastJson(b.out).pending).toBe(4);
}, 40_000);

test("a SINGLE_ISSUER ring entered from another thread: UringError EEXIST naming SINGLE_ISSUER", async () => {
  const dir = tempDir("bun-uring-si-");
  try {
    const script = join(dir.path, "worker.ts");
    writeFileSync(
      script,
      `import { IoUring } from ${LIB};
       declare const self: Worker;
       self.onmessage = (ev) => {
         const ring = IoUring.attach(ev.data);
         const out = {};
         const tries = { submit: () => ring.enter(1, 0, 0), register: () => ring.probe(), reap: () => ring.waitCqeTimeout(1) };
         for (const [k, fn] of Object.entries(tries)) {
           try { fn(); out[k] = "ok"; } catch (e) { out[k] = { name: e.name, code: e.code, message: e.message }; }
         }
         ring.close();
         self.postMessage(out);
       };`,
    );
    using ring = new IoUring(4, { singleIssuer: true, memory: "shared" });
    // the library refuses to hand a SINGLE_ISSUER ring's submitter role to another thread at all …
    expect(() => ring.share("submitter")).toThrow(/SINGLE_ISSUER/);
    // … and when another thread enters it anyway, the kernel's EEXIST comes back explained
    const worker = new Worker(script);
    try {
      const out = await new Promise<Record<string, any>>((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(e);
        worker.postMessage(ring.share("reaper"));
      });
      for (const k of ["submit", "register"]) {
        expect(out[k]).toMatchObject({ name: "UringError", code: "EEXIST" });
        expect(out[k].message).toContain("SINGLE_ISSUER");
      }
      expect(out.reap).toBe("ok"); // reaping from another thread is allowed
    } finally {
      worker.terminate();
    }
    // the ring still submits from its own thread
    prepNop(ring.getSqe()!);
    expect(ring.submitAndWait(1)).toBe(1);
    expect(ring.cqReady()).toBeGreaterThanOrEqual(1);
    // and a Uring (SINGLE_ISSUER|DEFER_TASKRUN by default) refuses to be shared with a clear code
    await using io = new Uring({ entries: 4 });
    expect(() => io.ring.share("reaper")).toThrow(expect.objectContaining({ code: "ERR_URING_ROLE" }));
  } finally {
    dir.cleanup();
  }
});
