/**
 * The protocol trace, on the real kernel: the exact event sequence of one NOP, errno names,
 * linked chains, batches, registrations, the Promise tier, BUN_URING_TRACE and `bun-uring trace`.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  IORING_ENTER_EXT_ARG,
  IORING_ENTER_GETEVENTS,
  IOSQE_IO_LINK,
  IoUring,
  prepNop,
  prepRead,
  Uring,
} from "../lib/index.ts";
import { formatTraceEvent, registerOpName, describeRes, type TraceEvent } from "../lib/trace.ts";
import { caught, kernelTest, tempDir } from "./helpers.ts";

const repo = join(import.meta.dir, "..");

function traced(entries = 4, options: Record<string, unknown> = {}) {
  const events: TraceEvent[] = [];
  const ring = new IoUring(entries, { ...options, trace: (e) => events.push(e) });
  return { ring, events };
}

/** The events without `ring` and `seq`, which the exact-sequence test checks separately. */
const bare = (events: TraceEvent[]) => events.map(({ ring: _r, seq: _s, ...rest }) => rest);

describe("trace", () => {
  kernelTest("the trace of one NOP is exactly the expected sequence of events", () => {
    const { ring, events } = traced(4, { memory: "mmap" });
    try {
      const sqe = ring.getSqe()!;
      prepNop(sqe);
      sqe.userData = 0xaaaaaaaa;
      expect(ring.submitAndWait(1)).toBe(1);
      const cqe = ring.peekCqe()!;
      expect(cqe.userData).toBe(0xaaaaaaaa);
      ring.cqeSeen(cqe);
    } finally {
      ring.close();
    }
    expect(events.map((e) => e.ring)).toEqual(events.map(() => events[0]!.ring));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    const [setup, ...rest] = bare(events);
    expect(setup).toMatchObject({ type: "setup", sqEntries: 4, cqEntries: 8, memory: "mmap" });
    expect(rest).toEqual([
      { type: "sqe", slot: 0, index: 0, opcode: 0, op: "NOP", fd: -1, len: 0, off: 0, userData: 0xaaaaaaaa, flags: 0, flagNames: [] },
      { type: "sq_tail", from: 0, to: 1 },
      { type: "enter", toSubmit: 1, minComplete: 1, flags: IORING_ENTER_GETEVENTS, flagNames: ["GETEVENTS"], result: 1 },
      { type: "sq_head", head: 1, consumed: 1, pending: 0 },
      { type: "cq_tail", tail: 1, ready: 1 },
      { type: "cqe", slot: 0, index: 0, userData: 0xaaaaaaaa, res: 0, result: "0", op: "NOP", flags: 0, flagNames: [] },
      { type: "cq_head", from: 0, to: 1 },
    ]);
    // and as readable lines
    const lines = events.slice(1).map((e) => formatTraceEvent(e).replace(/^\[ring \d+\] /, ""));
    expect(lines).toEqual([
      "sqe      slot 0  NOP fd=-1 len=0 off=0 user_data=0xaaaaaaaa flags=0",
      "sq_tail  0 → 1  (release store: 1 SQE published)",
      "enter    to_submit=1 min_complete=1 flags=GETEVENTS → 1",
      "sq_head  1  (acquire: kernel consumed 1, 0 pending)",
      "cq_tail  1  (acquire: 1 CQE ready)",
      "cqe      slot 0  user_data=0xaaaaaaaa res=0 (NOP) flags=0",
      "cq_head  0 → 1  (release store: 1 slot handed back)",
    ]);
  });

  kernelTest("an untraced ring keeps the prototype's methods and syscalls: nothing is replaced", () => {
    const ring = new IoUring(4);
    const t = traced(4);
    try {
      for (const m of ["getSqe", "submit", "submitAndWait", "peekCqe", "waitCqeNr", "forEachCqe", "peekBatchCqe", "cqAdvance", "cqeSeen"]) {
        expect(Object.hasOwn(ring, m)).toBe(false);
      }
      // the traced instance shadows the protocol methods, but getSqe and cqeSeen stay the prototype's
      for (const m of ["submit", "submitAndWait", "peekCqe", "forEachCqe", "cqAdvance"]) expect(Object.hasOwn(t.ring, m)).toBe(true);
      expect(Object.hasOwn(t.ring, "getSqe")).toBe(false);
      expect(Object.hasOwn(t.ring, "cqeSeen")).toBe(false);
    } finally {
      ring.close();
      t.ring.close();
    }
  });

  kernelTest("a linked chain: IO_LINK decoded, the failure as an errno name, the rest -ECANCELED", () => {
    const { ring, events } = traced(4);
    const buf = new Uint8Array(64);
    try {
      const a = ring.getSqe()!;
      prepRead(a, -1, buf, 0);
      a.userData = 7;
      a.flags = IOSQE_IO_LINK;
      const b = ring.getSqe()!;
      prepNop(b);
      b.userData = 8;
      ring.submitAndWait(2);
      const seen: number[] = [];
      expect(ring.forEachCqe((c) => void seen.push(c.res))).toBe(2);
    } finally {
      ring.close();
    }
    const sqes = events.filter((e) => e.type === "sqe");
    expect(sqes).toMatchObject([
      { op: "READ", fd: -1, len: 64, userData: 7, flagNames: ["IO_LINK"], slot: 0 },
      { op: "NOP", userData: 8, flagNames: [], slot: 1 },
    ]);
    expect(events.filter((e) => e.type === "sq_tail")).toMatchObject([{ from: 0, to: 2 }]);
    const cqes = events.filter((e) => e.type === "cqe");
    expect(cqes).toMatchObject([
      { userData: 7, res: -9, result: "EBADF", op: "READ", slot: 0 },
      { userData: 8, res: -125, result: "ECANCELED", op: "NOP", slot: 1 },
    ]);
    // forEachCqe advances the head once for the whole batch
    expect(events.filter((e) => e.type === "cq_head")).toMatchObject([{ from: 0, to: 2 }]);
    expect(formatTraceEvent(cqes[0]!)).toContain("user_data=7 res=-EBADF (READ)");
    expect(formatTraceEvent(sqes[0]!)).toContain("READ fd=-1 len=64 off=0 user_data=7 flags=IO_LINK");
  });

  kernelTest("a read's res is a byte count; peekBatchCqe reports every CQE once", () => {
    const { ring, events } = traced(8);
    const fd = require("node:fs").openSync("/dev/zero", "r");
    const bufs = [new Uint8Array(100), new Uint8Array(1)];
    try {
      bufs.forEach((b, i) => {
        const s = ring.getSqe()!;
        prepRead(s, fd, b, 0);
        s.userData = i + 1;
      });
      ring.submitAndWait(2);
      const out: import("../lib/index.ts").Cqe[] = [];
      expect(ring.peekBatchCqe(out, 8)).toBe(2);
      expect(ring.peekBatchCqe(out, 8)).toBe(2); // the same two again: not reported twice
      ring.cqAdvance(2);
    } finally {
      ring.close();
      require("node:fs").closeSync(fd);
    }
    const cqes = events.filter((e) => e.type === "cqe");
    expect(cqes.map((e) => e.result).sort()).toEqual(["1 byte", "100 bytes"]);
    expect(events.filter((e) => e.type === "cq_head")).toMatchObject([{ from: 0, to: 2 }]);
  });

  kernelTest("SQPOLL: SQEs published without an enter are still traced, from the slots as filled", () => {
    const { ring, events } = traced(4, { sqpoll: true, sqThreadIdle: 2000 });
    try {
      for (let r = 0; r < 3; r++) {
        for (let i = 0; i < 2; i++) {
          const s = ring.getSqe()!;
          prepNop(s);
          s.userData = r * 10 + i;
        }
        ring.submit();
        ring.waitCqeNr(2);
        expect(ring.forEachCqe(() => {})).toBe(2);
      }
    } finally {
      ring.close();
    }
    const sqes = events.filter((e) => e.type === "sqe");
    expect(sqes.map((e) => [e.userData, e.slot, e.op])).toEqual([
      [0, 0, "NOP"], [1, 1, "NOP"], [10, 2, "NOP"], [11, 3, "NOP"], [20, 0, "NOP"], [21, 1, "NOP"],
    ]);
    expect(events.filter((e) => e.type === "sq_tail").map((e) => [e.from, e.to])).toEqual([[0, 2], [2, 4], [4, 6]]);
    expect(events.filter((e) => e.type === "cqe").map((e) => e.userData)).toEqual([0, 1, 10, 11, 20, 21]);
    // the poller submits: enters carry to_submit only to wake it, never more than once per round
    expect(events.filter((e) => e.type === "enter" && e.toSubmit > 0).length).toBeLessThanOrEqual(3);
  });

  kernelTest("a timed-out wait: enter's result is the errno name (ETIME) with GETEVENTS|EXT_ARG", () => {
    const { ring, events } = traced(4);
    try {
      expect(ring.waitCqeTimeout(1)).toBeNull();
    } finally {
      ring.close();
    }
    const enter = events.find((e) => e.type === "enter");
    expect(enter).toMatchObject({
      type: "enter",
      toSubmit: 0,
      minComplete: 1,
      flags: IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
      flagNames: ["GETEVENTS", "EXT_ARG"],
      result: -62,
      errno: "ETIME",
    });
    expect(formatTraceEvent(enter!)).toContain("flags=GETEVENTS|EXT_ARG → -ETIME");
  });

  kernelTest("every register call is an event, failures with their errno", async () => {
    const { ring, events } = traced(4);
    try {
      ring.probe();
      const e = await caught(() => ring.unregisterFiles());
      expect(e.code).toBe("ENXIO");
    } finally {
      ring.close();
    }
    const regs = events.filter((e) => e.type === "register");
    expect(regs).toMatchObject([
      { op: "REGISTER_PROBE", opcode: 8, nrArgs: 256, result: 0 },
      { op: "UNREGISTER_FILES", opcode: 3, nrArgs: 0, result: -6, errno: "ENXIO" },
    ]);
    expect(formatTraceEvent(regs[1]!)).toContain("register UNREGISTER_FILES nr_args=0 → -ENXIO");
  });

  kernelTest("the Promise tier passes its trace option to its ring", async () => {
    const events: TraceEvent[] = [];
    const io = new Uring({ entries: 4, trace: (e) => events.push(e) });
    try {
      const text = await io.readFile(join(repo, "package.json"), { encoding: "utf8" });
      expect(text).toContain("bun-uring");
    } finally {
      await io.close();
    }
    const types = new Set(events.map((e) => e.type));
    for (const t of ["setup", "register", "sqe", "sq_tail", "enter", "cq_tail", "cqe", "cq_head"]) expect(types.has(t as TraceEvent["type"])).toBe(true);
    expect(events.find((e) => e.type === "register")).toMatchObject({ op: "REGISTER_EVENTFD" });
    expect(events.filter((e) => e.type === "sqe").map((e) => (e as { op: string }).op)).toContain("OPENAT");
  });

  test("a trace option that is not a function is refused, naming the field", async () => {
    const e = await caught(() => new IoUring(4, { trace: 42 as unknown as boolean }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toContain("options.trace");
  });

  kernelTest("a throwing trace function does not corrupt the ring: the error surfaces afterwards, uncaught", () => {
    // a subprocess, because the error is meant to be uncaught
    const script = `
      import { IoUring, prepNop } from "./lib/index.ts";
      const ring = new IoUring(4, { trace: (e) => { if (e.type === "enter") throw new Error("trace boom"); } });
      prepNop(ring.getSqe());
      const n = ring.submitAndWait(1);
      const cqe = ring.peekCqe();
      console.log("submitted", n, "res", cqe.res);
      ring.cqeSeen();
      console.log("counters", JSON.stringify(ring.counters()));
    `;
    const p = Bun.spawnSync(["bun", "-e", script], { cwd: repo, stdout: "pipe", stderr: "pipe" });
    const out = p.stdout.toString();
    expect(out).toContain("submitted 1 res 0");
    expect(out).toContain('"sqHead":1,"sqTail":1,"sqeTail":1,"cqHead":1,"cqTail":1');
    expect(p.stderr.toString()).toContain("trace boom");
    expect(p.exitCode).not.toBe(0);
  });

  test("names: register opcodes and results", () => {
    expect(registerOpName(0)).toBe("REGISTER_BUFFERS");
    expect(registerOpName(23)).toBe("UNREGISTER_PBUF_RING");
    expect(registerOpName(250)).toBe("REGISTER_250");
    expect(describeRes(-125)).toBe("ECANCELED");
    expect(describeRes(4096, "READ")).toBe("4096 bytes");
    expect(describeRes(5, "OPENAT")).toBe("5");
  });
});

describe("BUN_URING_TRACE and bun-uring trace", () => {
  const run = (args: string[], env: Record<string, string> = {}) => {
    const p = Bun.spawnSync(["bun", ...args], { cwd: repo, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  };

  kernelTest("BUN_URING_TRACE=1 prints readable lines on stderr for any script", () => {
    const r = run(["examples/01-nop.ts"], { BUN_URING_TRACE: "1" });
    expect(r.code).toBe(0);
    const lines = r.err.trim().split("\n").map((l) => l.replace(/^\[ring \d+\] /, ""));
    expect(lines[0]).toMatch(/^setup    sq_entries=8 cq_entries=16 /);
    expect(lines).toContain("sqe      slot 0  NOP fd=-1 len=0 off=0 user_data=0xaaaaaaaa flags=0");
    expect(lines).toContain("sq_tail  0 → 1  (release store: 1 SQE published)");
    expect(lines).toContain("cqe      slot 0  user_data=0xaaaaaaaa res=0 (NOP) flags=0");
    // the example's own output is untouched
    expect(r.out).toContain("user_data=0xaaaaaaaa");
  });

  kernelTest("trace: false keeps a ring untraced under BUN_URING_TRACE; other rings follow the variable", () => {
    const script = `
      import { IoUring } from "./lib/index.ts";
      const quiet = new IoUring(2, { trace: false });
      quiet.probe();
      console.log("quiet own submit:", Object.hasOwn(quiet, "submit"));
      const loud = new IoUring(2);
      loud.probe();
      console.log("loud own submit:", Object.hasOwn(loud, "submit"));
    `;
    const p = Bun.spawnSync(["bun", "-e", script], { cwd: repo, env: { ...process.env, BUN_URING_TRACE: "json" }, stdout: "pipe", stderr: "pipe" });
    expect(p.stdout.toString()).toBe("quiet own submit: false\nloud own submit: true\n");
    const events = p.stderr.toString().trim().split("\n").map((l) => JSON.parse(l) as TraceEvent);
    expect(events.map((e) => e.type)).toEqual(["setup", "register"]);
    expect(new Set(events.map((e) => e.ring)).size).toBe(1);
  });

  kernelTest("bun-uring trace --json writes NDJSON, one typed event per line, to --output", () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, "trace.ndjson");
      const r = run(["lib/cli.ts", "trace", "--json", "--output", file, "examples/01-nop.ts", "mmap"]);
      expect(r.code).toBe(0);
      expect(r.out).toContain("memory mode: mmap"); // the script got its own argument
      const events = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as TraceEvent);
      expect(events.map((e) => e.type)).toEqual(["setup", "sqe", "sq_tail", "enter", "sq_head", "cq_tail", "cqe", "cq_head"]);
      expect(events[0]).toMatchObject({ type: "setup", memory: "mmap" });
    } finally {
      dir.cleanup();
    }
  });

  kernelTest("bun-uring trace passes the script's exit status through", () => {
    const r = run(["lib/cli.ts", "trace", "examples/01-nop.ts", "bogus"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage: bun examples/01-nop.ts");
  });

  test("bun-uring trace without a script, or with a missing one, is a usage error", () => {
    expect(run(["lib/cli.ts", "trace"]).code).toBe(2);
    const r = run(["lib/cli.ts", "trace", "no/such/script.ts"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("no such script: no/such/script.ts");
    const h = run(["lib/cli.ts", "trace", "--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toContain("Usage: bun-uring trace");
  });
});
