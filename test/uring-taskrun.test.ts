/**
 * The Promise tier never strands an operation behind task work.
 *
 * On a DEFER_TASKRUN ring (the Uring default) the kernel runs task work — a link step handing on
 * to the next, a poll wake-up issuing a recv, a timer firing, an io-wq completion — only when
 * this thread enters with IORING_ENTER_GETEVENTS, and one enter runs a bounded batch of it. The
 * Uring is woken by a registered eventfd, which the kernel signals when task work is queued on
 * an empty list (io_req_local_work_add) and when CQEs are posted — not for work a bounded run
 * left over. Work that posts no CQE of its own (a hand-off to a step that then waits) must still
 * be run to the end, or a later step never even starts and its promise never settles.
 *
 * Every test here waits with a bound (a race against one timer) and asserts the operation
 * settled. The waits are idle on purpose: no other operation on the same Uring (any submit
 * would enter with GETEVENTS and rescue stranded work), data arrives through plain syscalls
 * (node:fs writeSync, node:net) fired from a timer, and the bounding timer only wakes the event
 * loop — it never enters the ring.
 */
import { expect } from "bun:test";
import { closeSync, readSync, writeSync } from "node:fs";
import net from "node:net";
import { pipe2 } from "../ffi/syscalls.ts";
import {
  IORING_OP_NOP,
  IORING_SETUP_COOP_TASKRUN,
  IORING_SETUP_DEFER_TASKRUN,
  IORING_SETUP_SINGLE_ISSUER,
  IORING_SETUP_SQPOLL,
  IORING_SETUP_TASKRUN_FLAG,
  IORING_SQ_TASKRUN,
  IOSQE_ASYNC,
  IOSQE_CQE_SKIP_SUCCESS,
  prepLinkTimeout,
  prepRead,
  prepRw,
  type Sqe,
  Timespec,
  Uring,
  type UringOptions,
} from "../lib/index.ts";
import { addressOf } from "../lib/memory.ts";
import { describeKernel, kernelTest as test } from "./helpers.ts";

/** How long an operation that should settle within milliseconds gets before it counts as hung. */
const BOUND_MS = 4000;
const ECANCELED = 125;
const ETIME = 62;

/** Whether `p` settles within `ms` (one timer, cleared afterwards; it never touches the ring). */
async function settles(p: Promise<unknown>, ms = BOUND_MS): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = p.then(
    () => true,
    () => true,
  );
  const r = await Promise.race([done, bound]);
  clearTimeout(timer);
  return r;
}

/**
 * Mark `promises` handled: if a test fails, closing its Uring rejects whatever is still pending,
 * and those rejections must not surface as errors in the tests that run after it.
 */
function quiet<T extends Promise<unknown>[]>(promises: T): T {
  for (const p of promises) p.catch(() => {});
  return promises;
}

/** pipe2(2): [read end, write end]. Both ends are blocking; the ring polls the read end. */
function pipe(): [number, number] {
  const fds = new Int32Array(2);
  const r = pipe2(addressOf(fds));
  if (r < 0) throw new Error(`pipe2: ${r}`);
  return [fds[0]!, fds[1]!];
}

/** The setups a Uring can be asked for, each with the IORING_SETUP_* bits it must really have. */
const MODES: { name: string; options: UringOptions; flags: number }[] = [
  { name: "default (SINGLE_ISSUER|DEFER_TASKRUN)", options: {}, flags: IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER },
  { name: "deferTaskrun", options: { deferTaskrun: true }, flags: IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG },
  // the flag word is then on an mmap of the ring fd, not a SharedArrayBuffer: the flush's atomic and must work there too
  { name: "default, memory: mmap", options: { memory: "mmap" }, flags: IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG },
  {
    name: "raw flags DEFER_TASKRUN|SINGLE_ISSUER (TASKRUN_FLAG added)",
    options: { flags: IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER },
    flags: IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
  },
  { name: "coopTaskrun", options: { coopTaskrun: true }, flags: IORING_SETUP_COOP_TASKRUN },
  { name: "coopTaskrun + taskrunFlag", options: { coopTaskrun: true, taskrunFlag: true }, flags: IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG },
  { name: "singleIssuer", options: { singleIssuer: true }, flags: IORING_SETUP_SINGLE_ISSUER },
  { name: "sqpoll", options: { sqpoll: true, sqThreadIdle: 20 }, flags: IORING_SETUP_SQPOLL },
];

function open(mode: (typeof MODES)[number], extra: UringOptions = {}): Uring {
  const io = new Uring({ ...mode.options, ...extra });
  expect(io.ring.flags & mode.flags).toBe(mode.flags);
  if (mode.options.memory === "mmap") expect(io.ring.memory.mode).toBe("mmap");
  return io;
}

const HELLO = Buffer.from("hello");

for (const mode of MODES) {
  describeKernel(`Uring never strands work behind task work: ${mode.name}`, () => {
    for (const length of [2, 3, 4]) {
      test(`a ${length}-step chain whose head reads a pipe fed later by a timer settles (read → write → nop → sleep)`, async () => {
        await using io = open(mode);
        const [inR, inW] = pipe();
        const [outR, outW] = pipe();
        try {
          const buf = new Uint8Array(HELLO.length);
          const steps = [
            { op: "read", fd: inR, buffer: buf },
            { op: "write", fd: outW, buffer: buf },
            { op: "nop" },
            { op: "sleep", ms: 1 },
          ] as const;
          const promises = quiet(io.link(steps.slice(0, length) as never));
          setTimeout(() => writeSync(inW, HELLO), 20);
          const all = Promise.all(promises);
          expect(await settles(all)).toBe(true);
          expect(await all).toEqual([5, 5, 0, undefined].slice(0, length));
          if (length >= 2) {
            const got = Buffer.alloc(16);
            expect(got.subarray(0, readSync(outR, got)).toString()).toBe("hello");
          }
        } finally {
          for (const fd of [inR, inW, outR, outW]) closeSync(fd);
        }
      });

      test(`a ${length}-step chain handing on to a read that waits for a timer's data settles (nop → read → write → nop)`, async () => {
        await using io = open(mode);
        const [inR, inW] = pipe();
        const [outR, outW] = pipe();
        try {
          const buf = new Uint8Array(HELLO.length);
          const steps = [{ op: "nop" }, { op: "read", fd: inR, buffer: buf }, { op: "write", fd: outW, buffer: buf }, { op: "nop" }] as const;
          const promises = quiet(io.link(steps.slice(0, length) as never));
          setTimeout(() => writeSync(inW, HELLO), 20);
          const all = Promise.all(promises);
          expect(await settles(all)).toBe(true);
          expect(await all).toEqual([0, 5, 5, 0].slice(0, length));
          if (length >= 3) {
            const got = Buffer.alloc(16);
            expect(got.subarray(0, readSync(outR, got)).toString()).toBe("hello");
          }
        } finally {
          for (const fd of [inR, inW, outR, outW]) closeSync(fd);
        }
      });
    }

    test("500 chains handing on to reads at once: the last read is armed (its data, and only its, arrives later)", async () => {
      // One flush submits 1000 SQEs: 500 NOPs complete inline, and each queues task work to issue
      // its chain's read, which then waits on an empty pipe — task work that posts no CQE. With
      // DEFER_TASKRUN an enter runs a bounded batch of it; if the flush stopped early, the reads
      // left in the kernel's list were never issued and nothing would ever signal the eventfd again.
      const N = 500;
      await using io = open(mode, { entries: 1024 });
      const pipes = Array.from({ length: N }, pipe);
      try {
        const bufs = pipes.map(() => new Uint8Array(1));
        const chains = pipes.map(([r], k) => quiet(io.link([{ op: "nop" }, { op: "read", fd: r, buffer: bufs[k]! }])));
        setTimeout(() => writeSync(pipes[N - 1]![1], "z"), 20);
        const last = chains[N - 1]![1]!;
        expect(await settles(last)).toBe(true);
        expect(await last).toBe(1);
        expect(bufs[N - 1]![0]).toBe("z".charCodeAt(0));
        expect(await Promise.all(chains.map((c) => c[0]))).toEqual(new Array(N).fill(0));
        expect(io.inFlight).toBe(N - 1); // every other read is still armed, none lost
        for (const [, w] of pipes) writeSync(w, "y");
        const rest = Promise.all(chains.slice(0, N - 1).map((c) => c[1]));
        expect(await settles(rest)).toBe(true);
        expect(await rest).toEqual(new Array(N - 1).fill(1));
        expect(io.inFlight).toBe(0);
      } finally {
        for (const [r, w] of pipes) {
          closeSync(r);
          closeSync(w);
        }
      }
    });

    test("a read chain whose first read is cut short still ends: the later steps are cancelled, not stranded", async () => {
      await using io = open(mode);
      const [inR, inW] = pipe();
      try {
        const a = new Uint8Array(8);
        const b = new Uint8Array(8);
        const [first, second, third] = quiet(io.link([
          { op: "read", fd: inR, buffer: a },
          { op: "read", fd: inR, buffer: b },
          { op: "nop" },
        ]));
        setTimeout(() => writeSync(inW, "abc"), 20); // 3 < 8 bytes: a short read breaks the link
        const all = Promise.allSettled([first, second, third]);
        expect(await settles(all)).toBe(true);
        const r = await all;
        expect(r[0]).toEqual({ status: "fulfilled", value: 3 });
        expect(r.slice(1).map((x) => (x.status === "rejected" ? (x.reason as { code?: string }).code : x.status))).toEqual(["ECANCELED", "ECANCELED"]);
      } finally {
        closeSync(inR);
        closeSync(inW);
      }
    });

    test("a linked timeout on a read that never gets data fires and cancels it", async () => {
      await using io = open(mode);
      const [inR, inW] = pipe();
      try {
        const buf = new Uint8Array(4);
        const ts = new Timespec(30);
        const results: number[] = [];
        const done = new Promise<void>((resolve) => {
          const step = (res: number) => {
            results.push(res);
            if (results.length === 2) resolve();
          };
          io.enqueueLinked([
            { prep: (sqe) => prepRead(sqe, inR, buf, -1), done: step, keep: buf },
            { prep: (sqe) => prepLinkTimeout(sqe, ts), done: step, keep: ts },
          ]);
        });
        expect(await settles(done)).toBe(true);
        expect(results.sort()).toEqual([-ECANCELED, -ETIME].sort());
        expect(io.inFlight).toBe(0);
      } finally {
        closeSync(inR);
        closeSync(inW);
      }
    });

    test("raw chain steps with IOSQE_CQE_SKIP_SUCCESS still end with their CQE (the bit is dropped), so nothing stays in flight", async () => {
      await using io = open(mode);
      const [inR, inW] = pipe();
      try {
        const buf = new Uint8Array(HELLO.length);
        const results: string[] = [];
        const done = new Promise<void>((resolve) => {
          const step = (name: string) => (res: number) => {
            results.push(`${name}:${res}`);
            if (results.length === 3) resolve();
          };
          const skip = (sqe: Sqe) => (sqe.flags |= IOSQE_CQE_SKIP_SUCCESS);
          io.enqueueLinked([
            { prep: (sqe) => (prepRw(IORING_OP_NOP, sqe, -1, 0, 0, 0), skip(sqe)), done: step("nop") },
            { prep: (sqe) => (prepRead(sqe, inR, buf, -1), skip(sqe)), done: step("read"), keep: buf },
            { prep: (sqe) => prepRw(IORING_OP_NOP, sqe, -1, 0, 0, 0), done: step("last") },
          ]);
        });
        setTimeout(() => writeSync(inW, HELLO), 20);
        expect(await settles(done)).toBe(true);
        expect(results).toEqual(["nop:0", "read:5", "last:0"]);
        expect(io.inFlight).toBe(0);
      } finally {
        closeSync(inR);
        closeSync(inW);
      }
    });

    test("sleep (IORING_OP_TIMEOUT) settles with nothing else going on, alone and 300 at once", async () => {
      await using io = open(mode);
      const [one] = quiet([io.sleep(15)]);
      expect(await settles(one)).toBe(true);
      expect(await one).toBeUndefined();
      const many = Promise.all(quiet(Array.from({ length: 300 }, (_, k) => io.sleep(5 + (k % 20)))));
      expect(await settles(many)).toBe(true);
      expect((await many).length).toBe(300);
      expect(io.inFlight).toBe(0);
    });

    test("300 reads on pipes fed by one timer, and 300 NOPs forced through io-wq (IOSQE_ASYNC), all settle", async () => {
      await using io = open(mode, { entries: 512 });
      const pipes = Array.from({ length: 300 }, pipe);
      try {
        const bufs = pipes.map(() => new Uint8Array(2));
        const reads = Promise.all(quiet(pipes.map(([r], k) => io.read(r, bufs[k]!))));
        // io-wq completions on a DEFER_TASKRUN ring come back as deferred task work
        let asyncDone = 0;
        const asyncNops = new Promise<void>((resolve) => {
          for (let k = 0; k < 300; k++) {
            io.enqueue(
              (sqe) => {
                prepRw(IORING_OP_NOP, sqe, -1, 0, 0, 0);
                sqe.flags |= IOSQE_ASYNC;
              },
              (res) => {
                expect(res).toBe(0);
                if (++asyncDone === 300) resolve();
              },
            );
          }
        });
        setTimeout(() => {
          for (const [, w] of pipes) writeSync(w, "ok");
        }, 20);
        expect(await settles(asyncNops)).toBe(true);
        expect(await settles(reads)).toBe(true);
        expect(await reads).toEqual(new Array(300).fill(2));
        expect(io.inFlight).toBe(0);
      } finally {
        for (const [r, w] of pipes) {
          closeSync(r);
          closeSync(w);
        }
      }
    });

    test("accept and recv waiting on sockets that get a connection and data later settle (one, and 32 at once)", async () => {
      await using io = open(mode);
      const { fd: listener, address } = await io.listenTcp("127.0.0.1", 0);
      const clients: net.Socket[] = [];
      const fds: number[] = [listener];
      try {
        // one: the accept is in the kernel before anyone connects, the recv before any data
        const [accepted] = quiet([io.accept(listener)]);
        setTimeout(() => clients.push(net.connect(address.port, "127.0.0.1")), 20);
        expect(await settles(accepted)).toBe(true);
        const { fd } = await accepted;
        fds.push(fd);
        const buf = new Uint8Array(16);
        const [got] = quiet([io.recv(fd, buf)]);
        setTimeout(() => clients[0]!.write("ping"), 20);
        expect(await settles(got)).toBe(true);
        expect(Buffer.from(buf.subarray(0, await got)).toString()).toBe("ping");

        // 32 at once: 32 accepts armed, 32 connects later; then 32 recvs armed, data to all later
        const N = 32;
        const accepts = quiet(Array.from({ length: N }, () => io.accept(listener)));
        setTimeout(() => {
          for (let k = 0; k < N; k++) clients.push(net.connect(address.port, "127.0.0.1"));
        }, 20);
        const all = Promise.all(accepts);
        expect(await settles(all)).toBe(true);
        const servers = (await all).map((a) => a.fd);
        fds.push(...servers);
        const bufs = servers.map(() => new Uint8Array(8));
        const recvs = Promise.all(quiet(servers.map((s, k) => io.recv(s, bufs[k]!))));
        setTimeout(() => {
          for (const c of clients.slice(1)) c.write("data");
        }, 20);
        expect(await settles(recvs)).toBe(true);
        expect(await recvs).toEqual(new Array(N).fill(4));
      } finally {
        for (const c of clients) c.destroy();
        await Promise.all(fds.map((fd) => io.closeFd(fd).catch(() => {})));
      }
    });
  });
}

describeKernel("Uring: IORING_SQ_TASKRUN is read exactly", () => {
  test("a stale IORING_SQ_TASKRUN (no task work behind it) costs a few enters once, and the flush lowers it", async () => {
    await using io = new Uring();
    expect(io.ring.flags & IORING_SETUP_DEFER_TASKRUN).toBe(IORING_SETUP_DEFER_TASKRUN);
    const stop = new AbortController();
    const pending = io.sleep(60_000, { signal: stop.signal }).catch((e: Error) => e.name); // keeps GETEVENTS enters on
    expect(await io.nop()).toBe(0);
    await Bun.sleep(20); // let the NOP's eventfd wake-up come and go
    Atomics.or(io.ring.sqRing, io.ring._sqFlagsIndex, IORING_SQ_TASKRUN);
    expect(io.ring.taskrunPending()).toBe(true);
    const enters0 = io.ring.enterCount;
    expect(await io.nop()).toBe(0);
    // The flush: one enter submits the NOP and reaps it; one reaps nothing; and while the flag is up,
    // each reap that finds the CQ empty enters once more to flush (as liburing's peek does) — 2 more.
    // Then the flag is lowered, one last enter finds no work, and the flush ends with the flag down.
    expect(io.ring.taskrunPending()).toBe(false);
    expect(io.ring.enterCount - enters0).toBeLessThanOrEqual(6);
    const enters1 = io.ring.enterCount;
    for (let i = 0; i < 50; i++) expect(await io.nop()).toBe(0);
    expect(io.ring.enterCount - enters1).toBeLessThanOrEqual(50 * 2);
    stop.abort();
    expect(await pending).toBe("AbortError");
  });

  test("idle with 500 reads armed, the Uring makes no io_uring_enter at all", async () => {
    await using io = new Uring({ entries: 1024 });
    const pipes = Array.from({ length: 500 }, pipe);
    try {
      const bufs = pipes.map(() => new Uint8Array(1));
      const chains = pipes.map(([r], k) => quiet(io.link([{ op: "nop" }, { op: "read", fd: r, buffer: bufs[k]! }])));
      await Promise.all(chains.map((c) => c[0]));
      await Bun.sleep(50); // let any last eventfd wake-up run
      const enters0 = io.ring.enterCount;
      await Bun.sleep(100);
      expect(io.ring.enterCount).toBe(enters0);
      expect(io.inFlight).toBe(500);
      for (const [, w] of pipes) writeSync(w, "y");
      const reads = Promise.all(chains.map((c) => c[1]));
      expect(await settles(reads)).toBe(true);
    } finally {
      for (const [r, w] of pipes) {
        closeSync(r);
        closeSync(w);
      }
    }
  });
});
