/**
 * `bun-uring learn`: both rings drawn slot by slot, with their head and tail markers, while a
 * scenario runs on a real ring one step at a time — a single NOP, a batch, a linked chain, CQ
 * overflow — and, on a synthetic ring, the wrap of the counters past 2^32.
 *
 * Every picture is read from the ring memory after the step ran: counters through
 * `ring.counters()` (acquire loads), SQE slots from the SQE array, CQEs from the CQ ring.
 * The real scenarios use a tiny ring (4 SQ entries, 8 CQ entries) made with `new IoUring`.
 * The wrap scenario cannot be real: the kernel keeps its own copies of the counters, and
 * reaching 2^32 takes 2^32 operations (over an hour of NOPs at a million a second). It runs the
 * same IoUring code on a ring laid out as Linux lays one out, in SharedArrayBuffers, with its
 * counters seeded at 2^32 − 2 and a JS peer doing the kernel's part, and says so on every picture.
 */
import { openSync, closeSync, writeFileSync } from "node:fs";
import { add32, sub32 } from "./barrier.ts";
import {
  IORING_SETUP_SQE128,
  IORING_SQ_CQ_OVERFLOW,
  IORING_SQ_NEED_WAKEUP,
  IORING_SQ_TASKRUN,
  IOSQE_IO_LINK,
  decodeFlags,
  IOSQE_FLAG_NAMES,
  OPCODE_NAMES,
} from "./constants.ts";
import { errnoName, invalidArgument, UringError } from "./errors.ts";
import { prepNop, prepRead } from "./prep.ts";
import { IoUring, type RingCounters, type SharedRing } from "./ring.ts";
import { syntheticPeerStep, syntheticRing } from "./synthetic-ring.ts";
import { getU64, SQW } from "./sqe.ts";

// ------------------------------------------------------------------ pictures

/** One slot as drawn: its name ("SQ[2]"), its state and up to three lines of content. */
export interface SlotPicture {
  name: string;
  /**
   * SQ: "free", "filled" (ours, not yet published), "published" (the kernel's to read).
   * CQ: "free" (the kernel's to write), "ready" (posted, ours to read).
   */
  state: "free" | "filled" | "published" | "ready";
  lines: string[];
}

/** Both rings at one moment. */
export interface RingPicture {
  scenario: string;
  /** 0 for the fresh ring, then 1, 2, … */
  step: number;
  steps: number;
  title: string;
  /** What the step did, and what came back. */
  result: string;
  /** Why the counters moved. */
  note: string;
  /** True for the wrap-around scenario: a JS peer plays the kernel. */
  synthetic: boolean;
  counters: RingCounters;
  sqFlags: string[];
  sq: SlotPicture[];
  cq: SlotPicture[];
}

const SQ_FLAG_NAMES = [
  [IORING_SQ_NEED_WAKEUP, "NEED_WAKEUP"],
  [IORING_SQ_CQ_OVERFLOW, "CQ_OVERFLOW"],
  [IORING_SQ_TASKRUN, "TASKRUN"],
] as const;

const hex = (n: number) => (n >= 0x10000 ? `0x${n.toString(16)}` : String(n));

/** Read both rings of `ring` into a picture. */
export function pictureOf(ring: IoUring): Pick<RingPicture, "counters" | "sqFlags" | "sq" | "cq"> {
  const c = ring.counters();
  const sqMask = ring.sqEntries - 1;
  const cqMask = ring.cqEntries - 1;
  const sqeWords = ring.flags & IORING_SETUP_SQE128 ? 32 : 16;
  const sq: SlotPicture[] = [];
  for (let s = 0; s < ring.sqEntries; s++) sq.push({ name: `SQ[${s}]`, state: "free", lines: ["free"] });
  // the live SQEs: [head, sqeTail); published below the tail, ours above it
  for (let k = c.sqHead; k !== c.sqeTail; k = add32(k, 1)) {
    const slot = k & sqMask;
    const u = ring.sqes;
    const i = slot * sqeWords;
    const opcode = u[i]! & 0xff;
    const flags = decodeFlags((u[i]! >>> 8) & 0xff, IOSQE_FLAG_NAMES).map((f) => f.replace(/^IO_/, ""));
    const published = sub32(k, c.sqHead) < sub32(c.sqTail, c.sqHead);
    sq[slot] = {
      name: `SQ[${slot}]`,
      state: published ? "published" : "filled",
      lines: [OPCODE_NAMES[opcode] ?? `OP_${opcode}`, `ud=${hex(getU64(u, i + SQW.userData))}`, flags.join(",") || (published ? "published" : "filled")],
    };
  }
  const cq: SlotPicture[] = [];
  for (let s = 0; s < ring.cqEntries; s++) cq.push({ name: `CQ[${s}]`, state: "free", lines: ["free"] });
  for (let k = c.cqHead; k !== c.cqTail; k = add32(k, 1)) {
    const cqe = ring._cqeAt(k);
    const res = cqe.res;
    cq[k & cqMask] = {
      name: `CQ[${k & cqMask}]`,
      state: "ready",
      lines: [`ud=${hex(cqe.userData)}`, res < 0 ? `-${errnoName(res)}` : `res=${res}`],
    };
  }
  return { counters: c, sqFlags: decodeFlags(c.sqFlags, SQ_FLAG_NAMES), sq, cq };
}

// ------------------------------------------------------------------ text

const CELL = 11; // characters between the bars of one slot

function boxRow(slots: SlotPicture[], markers: string[][]): string[] {
  const edge = `+${slots.map(() => "-".repeat(CELL)).join("+")}+`;
  const height = 1 + Math.max(...slots.map((s) => s.lines.length));
  const rows: string[] = [edge];
  for (let r = 0; r < height; r++) {
    const cells = slots.map((s) => {
      const text = r === 0 ? s.name : (s.lines[r - 1] ?? "");
      return ` ${text.slice(0, CELL - 2).padEnd(CELL - 1)}`;
    });
    rows.push(`|${cells.join("|")}|`);
  }
  rows.push(edge);
  const marks = markers.map((m) => (m.length ? ` ^${m.join(" ")}`.padEnd(CELL + 1) : " ".repeat(CELL + 1))).join("");
  rows.push(marks.trimEnd());
  return rows;
}

/** Markers under each slot: H (head), T (tail), N (next SQE to fill: the library's private sqeTail). */
function markersOf(entries: number, marks: [string, number][]): string[][] {
  const out: string[][] = Array.from({ length: entries }, () => []);
  for (const [name, counter] of marks) out[counter & (entries - 1)]!.push(name);
  return out;
}

/** Wrap `text` at `width` columns, indenting each line by `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        out.push(indent + line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(indent + line);
  }
  return out;
}

const SLOT_STATES: readonly string[] = ["free", "filled", "published", "ready"];
const COUNTER_NAMES = ["sqHead", "sqTail", "sqeTail", "cqHead", "cqTail", "cqOverflow"] as const;

/** Check a RingPicture handed to renderText/renderSvg, so a wrong object is a named error, not "undefined" drawn. */
function checkPicture(p: unknown): asserts p is RingPicture {
  const bad = (what: string) => invalidArgument("picture", `Expected a RingPicture from course(); ${what}.`, "type");
  if (p === null || typeof p !== "object") throw bad(`got ${p === null ? "null" : typeof p}`);
  const q = p as Partial<RingPicture>;
  for (const k of ["scenario", "title", "result", "note"] as const) if (typeof q[k] !== "string") throw bad(`its ${k} is not a string`);
  if (!Number.isInteger(q.step) || !Number.isInteger(q.steps)) throw bad("its step/steps are not integers");
  if (!q.counters || typeof q.counters !== "object") throw bad("it has no counters");
  for (const k of COUNTER_NAMES) if (!Number.isInteger(q.counters[k])) throw bad(`counters.${k} is not an integer`);
  if (!Array.isArray(q.sqFlags)) throw bad("its sqFlags is not an array");
  for (const ring of ["sq", "cq"] as const) {
    const slots = q[ring];
    // the slot count is a power of two: markers are placed with counter & (entries - 1)
    if (!Array.isArray(slots) || slots.length === 0 || (slots.length & (slots.length - 1)) !== 0) throw bad(`its ${ring} is not a power-of-two array of slots`);
    for (const s of slots) {
      if (!s || typeof s.name !== "string" || !SLOT_STATES.includes(s.state) || !Array.isArray(s.lines)) throw bad(`an ${ring} slot is not { name, state, lines }`);
    }
  }
}

/** A picture as plain text (no ANSI escapes): a heading, what happened, and both rings as boxes. */
export function renderText(p: RingPicture): string {
  checkPicture(p);
  const c = p.counters;
  const lines: string[] = [];
  lines.push(`== ${p.scenario} · step ${p.step}/${p.steps - 1}: ${p.title}${p.synthetic ? "  [synthetic ring: a JS peer plays the kernel]" : ""}`);
  if (p.result) lines.push(`   → ${p.result}`);
  lines.push(...wrap(p.note, 88, "   "));
  lines.push("");
  lines.push(
    `SQ  ${p.sq.length} entries  head=${hex(c.sqHead)} (kernel writes)  tail=${hex(c.sqTail)} (we write)  ` +
      `next=${hex(c.sqeTail)} (ours, unpublished above tail)`,
  );
  lines.push(...boxRow(p.sq, markersOf(p.sq.length, [["H", c.sqHead], ["T", c.sqTail], ["N", c.sqeTail]])));
  lines.push(
    `CQ  ${p.cq.length} entries  head=${hex(c.cqHead)} (we write)  tail=${hex(c.cqTail)} (kernel writes)  ` +
      `sq.flags=${p.sqFlags.join("|") || "0"}  overflow=${c.cqOverflow}`,
  );
  lines.push(...boxRow(p.cq, markersOf(p.cq.length, [["H", c.cqHead], ["T", c.cqTail]])));
  lines.push("   H = head, T = tail, N = next SQE slot; slot = counter & (entries - 1)");
  return lines.join("\n");
}

// ------------------------------------------------------------------ SVG

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * A picture as an SVG document: each slot a `<rect>` with a `<text>` naming it ("SQ[0]", "CQ[3]")
 * and its content, head/tail markers as labelled arrows under the slots. For slides and docs.
 */
export function renderSvg(p: RingPicture): string {
  checkPicture(p);
  const cellW = 96;
  const cellH = 74;
  const left = 20;
  const width = left * 2 + Math.max(p.sq.length, p.cq.length) * cellW;
  const fill: Record<SlotPicture["state"], string> = { free: "#f4f4f4", filled: "#fff1c1", published: "#c8e6ff", ready: "#c9f2c9" };
  const out: string[] = [];
  const c = p.counters;
  let y = 28;
  out.push(`<text x="${left}" y="${y}" class="title">${esc(`${p.scenario} · step ${p.step}: ${p.title}`)}</text>`);
  if (p.synthetic) out.push(`<text x="${left}" y="${y + 18}" class="note">${esc("synthetic ring: a JS peer plays the kernel")}</text>`);
  y += 40;
  const ring = (label: string, slots: SlotPicture[], marks: [string, number][]) => {
    out.push(`<text x="${left}" y="${y}" class="label">${esc(label)}</text>`);
    y += 10;
    slots.forEach((s, i) => {
      const x = left + i * cellW;
      out.push(
        `<g class="slot ${s.state}" id="${esc(s.name.replace(/[[\]]/g, "_"))}">` +
          `<rect x="${x}" y="${y}" width="${cellW - 4}" height="${cellH}" rx="4" fill="${fill[s.state]}" stroke="#555"/>` +
          `<text x="${x + 8}" y="${y + 18}" class="name">${esc(s.name)}</text>` +
          s.lines.map((l, j) => `<text x="${x + 8}" y="${y + 36 + j * 15}" class="content">${esc(l)}</text>`).join("") +
          `</g>`,
      );
    });
    y += cellH + 6;
    const bySlot = markersOf(slots.length, marks);
    bySlot.forEach((names, i) => {
      if (!names.length) return;
      const x = left + i * cellW + (cellW - 4) / 2;
      out.push(
        `<g class="marker"><polygon points="${x},${y} ${x - 6},${y + 10} ${x + 6},${y + 10}" fill="#333"/>` +
          `<text x="${x}" y="${y + 24}" text-anchor="middle" class="marker">${esc(names.join(" "))}</text></g>`,
      );
    });
    y += 44;
  };
  const full = (m: string) => ({ H: "head", T: "tail", N: "next" })[m] ?? m;
  ring(`SQ  head=${hex(c.sqHead)}  tail=${hex(c.sqTail)}  next=${hex(c.sqeTail)}`, p.sq, [["H", c.sqHead], ["T", c.sqTail], ["N", c.sqeTail]].map(([m, v]) => [full(m as string), v as number]));
  ring(`CQ  head=${hex(c.cqHead)}  tail=${hex(c.cqTail)}  sq.flags=${p.sqFlags.join("|") || "0"}`, p.cq, [["H", c.cqHead], ["T", c.cqTail]].map(([m, v]) => [full(m as string), v as number]));
  const height = y;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="12">\n` +
    `<style>.title{font-size:15px;font-weight:bold}.label{font-size:13px}.name{font-weight:bold}.note{fill:#a33}</style>\n` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>\n` +
    out.join("\n") +
    `\n</svg>\n`
  );
}

// ------------------------------------------------------------------ scenarios

/** One step: what it is called, why the counters move, and the calls that make them move. */
interface Step {
  title: string;
  note: string;
  /** Runs the step on the ring; returns what came back, in words. */
  act?(ring: IoUring): string;
}

interface Scenario {
  name: string;
  synthetic: boolean;
  /** Make the ring (and whatever the steps need kept alive). */
  open(): { ring: IoUring; close(): void };
  steps: Step[];
}

const FRESH: Step = {
  title: "a fresh ring",
  note:
    "io_uring_setup made a ring of 4 SQ entries and 8 CQ entries. Every counter starts at 0; they are free-running " +
    "u32s, and slot = counter & (entries - 1). Each index has one writer: we write the SQ tail and the CQ head, " +
    "the kernel writes the SQ head and the CQ tail.",
};

function realRing(): { ring: IoUring; close(): void } {
  const ring = new IoUring(4, { cqEntries: 8 });
  return { ring, close: () => ring.close() };
}

function fillNops(ring: IoUring, first: number, n: number, flags = 0): string {
  const slots: string[] = [];
  for (let k = 0; k < n; k++) {
    const sqe = ring.getSqe();
    if (!sqe) return `${slots.join(", ")}; getSqe() → null: the SQ is full`;
    prepNop(sqe);
    sqe.userData = first + k;
    sqe.flags = flags;
    slots.push(`SQ[${sqe.i / 16}]`);
  }
  return `getSqe() → ${slots.join(", ")}; prepNop(); user_data ${first}${n > 1 ? `..${first + n - 1}` : ""}`;
}

function reapAll(ring: IoUring): string {
  const seen: string[] = [];
  const n = ring.forEachCqe((cqe) => {
    seen.push(`${cqe.userData}:${cqe.res < 0 ? `-${errnoName(cqe.res)}` : cqe.res}`);
  });
  return `forEachCqe() saw ${n} CQE${n === 1 ? "" : "s"} (user_data:res ${seen.join(" ") || "-"}), then one cqAdvance(${n})`;
}

const badReadBuffer = new Uint8Array(16);

const SCENARIOS: Scenario[] = [
  {
    name: "nop",
    synthetic: false,
    open: realRing,
    steps: [
      FRESH,
      {
        title: "getSqe() + prepNop(): fill one SQE",
        note:
          "getSqe() hands out the slot at our private counter (next) and moves it. The kernel cannot see the SQE " +
          "yet: the SQ tail it reads is still 0.",
        act: (ring) => fillNops(ring, 1, 1),
      },
      {
        title: "submit(): release-store the SQ tail, then io_uring_enter",
        note:
          "The tail is stored with release, so the SQE bytes are visible before the tail that publishes them. " +
          "io_uring_enter(to_submit=1) has the kernel read the SQE and move the SQ head. A NOP completes inline, " +
          "so by the time enter returns the kernel has written CQ[0] and stored the CQ tail.",
        act: (ring) => `submit() → ${ring.submit()}`,
      },
      {
        title: "peekCqe(): acquire-load the CQ tail, read the CQE",
        note:
          "The tail is loaded with acquire, so the CQE bytes the kernel wrote before storing it are visible. " +
          "The CQE carries our user_data back, and res (0 for a NOP, -errno on failure).",
        act: (ring) => {
          const cqe = ring.peekCqe();
          return cqe ? `peekCqe() → user_data=${cqe.userData} res=${cqe.res}` : "peekCqe() → null";
        },
      },
      {
        title: "cqeSeen(): release-store the CQ head",
        note:
          "Storing the head with release tells the kernel we are done reading the slot: it may write a new CQE there. " +
          "Both rings are empty again: head = tail on each.",
        act: (ring) => {
          ring.cqeSeen();
          return "cqeSeen() → CQ head 0 → 1";
        },
      },
    ],
  },
  {
    name: "batch",
    synthetic: false,
    open: realRing,
    steps: [
      FRESH,
      {
        title: "fill all four SQ slots",
        note: "Four getSqe() calls fill SQ[0..3]; a fifth would return null (getSqeOrThrow throws): the SQ is full until the kernel consumes.",
        act: (ring) => fillNops(ring, 1, 4),
      },
      {
        title: "submit(): one tail store, one io_uring_enter for four SQEs",
        note: "Batching is the point of the ring: the tail moves 0 → 4 in one release store, and one syscall submits all four.",
        act: (ring) => `submit() → ${ring.submit()} (enterCount ${ring.enterCount})`,
      },
      {
        title: "forEachCqe(): read four CQEs, advance the head once",
        note: "One acquire load of the CQ tail covers every CQE before it; one release store of the head hands all four slots back.",
        act: reapAll,
      },
      {
        title: "fill two more: the SQ wraps to slot 0",
        note: "The counters keep counting (4, 5) while the slots wrap: 4 & 3 = 0, 5 & 3 = 1.",
        act: (ring) => fillNops(ring, 5, 2),
      },
      {
        title: "submitAndWait(2), then reap",
        note: "The CQ has 8 slots, so CQEs 5 and 6 land in CQ[4] and CQ[5]; the head follows them.",
        act: (ring) => `submitAndWait(2) → ${ring.submitAndWait(2)}; ${reapAll(ring)}`,
      },
    ],
  },
  {
    name: "link",
    synthetic: false,
    open: realRing,
    steps: [
      FRESH,
      {
        title: "a chain: NOP → READ(fd -1) → NOP, linked with IOSQE_IO_LINK",
        note:
          "IOSQE_IO_LINK on an SQE makes the next one wait for it, and fail with -ECANCELED if it fails. " +
          "The READ on fd -1 will fail, so the last NOP never runs.",
        act: (ring) => {
          fillNops(ring, 1, 1, IOSQE_IO_LINK);
          const read = ring.getSqe()!;
          prepRead(read, -1, badReadBuffer, 0);
          read.userData = 2;
          read.flags = IOSQE_IO_LINK;
          fillNops(ring, 3, 1);
          return "SQ[0] NOP (IO_LINK), SQ[1] READ fd=-1 (IO_LINK), SQ[2] NOP";
        },
      },
      {
        title: "submitAndWait(3)",
        note: "The kernel runs the chain in order: the NOP succeeds, the READ fails with -EBADF, and the kernel cancels the rest of the chain.",
        act: (ring) => `submitAndWait(3) → ${ring.submitAndWait(3)}`,
      },
      {
        title: "reap: 0, -EBADF, -ECANCELED",
        note: "Every SQE of a chain gets its CQE, cancelled ones too: count CQEs, not successes, before reusing what they point at.",
        act: reapAll,
      },
    ],
  },
  {
    name: "overflow",
    synthetic: false,
    open: realRing,
    steps: [
      FRESH,
      {
        title: "four NOPs, submitted, not reaped",
        note: "The CQ fills up while nobody reads it.",
        act: (ring) => `${fillNops(ring, 1, 4)}; submit() → ${ring.submit()}`,
      },
      {
        title: "four more: the CQ is full",
        note: "All eight CQ slots hold CQEs: tail - head = 8 = cq_entries. The kernel has nowhere to post the next one.",
        act: (ring) => `${fillNops(ring, 5, 4)}; submit() → ${ring.submit()}`,
      },
      {
        title: "four more: they overflow",
        note:
          "The CQ tail stays at 8. The kernel keeps the four CQEs in its own backlog (IORING_FEAT_NODROP: nothing is " +
          "lost, so the overflow counter stays 0) and sets IORING_SQ_CQ_OVERFLOW in the SQ flags.",
        act: (ring) => `${fillNops(ring, 9, 4)}; submit() → ${ring.submit()}`,
      },
      {
        title: "forEachCqe(): reap the eight in the ring",
        note: "The head catches up with the tail; the backlog is still in the kernel and the flag is still set.",
        act: reapAll,
      },
      {
        title: "peekCqe(): the flag asks for an io_uring_enter(GETEVENTS), which flushes the backlog",
        note: "The ring is empty but CQ_OVERFLOW is set, so peekCqe() enters with GETEVENTS; the kernel moves the four backlogged CQEs into the ring and clears the flag.",
        act: (ring) => {
          const before = ring.enterCount;
          const cqe = ring.peekCqe();
          return `peekCqe() → user_data=${cqe?.userData ?? "none"} after ${ring.enterCount - before} enter`;
        },
      },
      {
        title: "reap the four from the backlog",
        note: "Twelve NOPs, twelve CQEs: the overflow cost a syscall, not a completion.",
        act: reapAll,
      },
    ],
  },
  {
    name: "wrap",
    synthetic: true,
    open: wrapRing,
    steps: [
      {
        title: "a ring whose counters are at 2^32 - 2",
        note:
          "Synthetic: the same IoUring code on a ring laid out as Linux lays it out, in SharedArrayBuffers, with every " +
          "counter seeded at 0xfffffffe; a JS peer does the kernel's part (consume SQEs, post CQEs). A real kernel " +
          "keeps its own copies of the counters and would need 2^32 operations to get here.",
      },
      {
        title: "fill three NOPs: next goes 0xfffffffe → 1",
        note: "The counter wraps past 2^32 to 0 and 1 (u32 arithmetic: (a + b) >>> 0); the slots are 2, 3, 0 as always: counter & 3.",
        act: (ring) => fillNops(ring, 1, 3),
      },
      {
        title: "submit(): tail 0xfffffffe → 1; the peer consumes and posts three CQEs",
        note:
          "The ring is flagged SQPOLL with NEED_WAKEUP clear, so submit() needs no syscall: it stores the tail and the " +
          "peer, like a kernel poller thread, picks the SQEs up. Distances are (tail - head) >>> 0 = 3, never negative.",
        act: (ring) => {
          const n = ring.submit();
          const consumed = peerStep(ring);
          return `submit() → ${n} (enterCount ${ring.enterCount}); the peer consumed ${consumed}`;
        },
      },
      {
        title: "forEachCqe(): reap them; the CQ head wraps too",
        note: "CQ slots 6, 7, 0 (0xfffffffe & 7 = 6): the head moves 0xfffffffe → 1 in one release store.",
        act: reapAll,
      },
    ],
  },
];

/** The scenario names, in course order. */
export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name) as [string, ...string[]];

// ------------------------------------------------------------------ the synthetic ring

const WRAP_START = 0xfffffffe;
const peers = new WeakMap<IoUring, SharedRing>();

/** A 4/8-entry synthetic ring (lib/synthetic-ring.ts) whose counters start two short of 2^32. */
function wrapRing(): { ring: IoUring; close(): void } {
  // attach() wants an fd: /dev/null stands in for the ring fd, which no syscall will ever use (no enter with SQPOLL awake)
  const fd = openSync("/dev/null", "r");
  const shared = syntheticRing(4, 8, { sq: WRAP_START, cq: WRAP_START }, fd);
  const ring = IoUring.attach(shared);
  peers.set(ring, shared);
  return {
    ring,
    close: () => {
      ring.close();
      closeSync(fd);
    },
  };
}

/** The kernel's part on the synthetic ring: consume every published SQE, post a CQE for each. */
function peerStep(ring: IoUring): number {
  const shared = peers.get(ring);
  if (!shared) throw new Error("peerStep: not a synthetic ring");
  return syntheticPeerStep(shared);
}

// ------------------------------------------------------------------ running

/**
 * Run the scenarios one step at a time, yielding a picture after each (the fresh ring first).
 * The ring of a scenario is closed when its last picture has been taken, or when the caller stops.
 */
export function course(names: readonly string[] = SCENARIO_NAMES): Generator<RingPicture> {
  // checked here, before the generator starts: a bad name is an error at the call, not at the first next()
  if (!Array.isArray(names)) throw invalidArgument("names", `Expected an array of scenario names (${SCENARIO_NAMES.join(", ")}).`, "type");
  const scenarios = names.map((name, k) => {
    const sc = SCENARIOS.find((s) => s.name === name);
    if (!sc) throw invalidArgument(`names[${k}]`, `Unknown scenario ${JSON.stringify(name)}; one of: ${SCENARIO_NAMES.join(", ")}.`);
    return sc;
  });
  return runCourse(scenarios);
}

function* runCourse(scenarios: readonly Scenario[]): Generator<RingPicture> {
  for (const sc of scenarios) {
    const { ring, close } = sc.open();
    try {
      for (let i = 0; i < sc.steps.length; i++) {
        const step = sc.steps[i]!;
        const result = step.act ? step.act(ring) : "";
        yield { scenario: sc.name, step: i, steps: sc.steps.length, title: step.title, result, note: step.note, synthetic: sc.synthetic, ...pictureOf(ring) };
      }
    } finally {
      close();
    }
  }
}

/** What `bun-uring learn` runs (lib/cli.ts parses its arguments into this with zod). */
export interface LearnOptions {
  /** Print this many pictures as plain text and stop (for pipes and tests). */
  steps?: number;
  /** One scenario, or "all" of them in course order. */
  scenario: string;
  /** Write the last picture shown as an SVG to this file. */
  svg?: string;
}

/** Where learn() reads keys and writes pictures: the process's by default. */
export interface LearnIo {
  stdin: NodeJS.ReadStream;
  write(text: string): void;
}

/**
 * `bun-uring learn`: interactive (a keypress per step) when stdin and stdout are terminals and
 * --steps is not given; otherwise prints the pictures as plain text, separated by blank lines.
 */
export async function learn(o: LearnOptions, io: LearnIo = { stdin: process.stdin, write: (t) => void process.stdout.write(t) }): Promise<number> {
  const names = o.scenario === "all" ? SCENARIO_NAMES : [o.scenario];
  const interactive = o.steps === undefined && io.stdin.isTTY === true && process.stdout.isTTY === true;
  let last: RingPicture | null = null;
  const gen = course(names);
  if (!interactive) {
    let shown = 0;
    for (const p of gen) {
      io.write(`${shown ? "\n" : ""}${renderText(p)}\n`);
      last = p;
      if (++shown === o.steps) break;
    }
    gen.return(undefined);
  } else {
    last = await interact(gen, io);
  }
  if (o.svg && last) {
    try {
      writeFileSync(o.svg, renderSvg(last));
    } catch (e) {
      // a write that fails after the CLI's checks (ENOSPC, EACCES, EIO): a UringError naming the file
      const errno = (e as { errno?: unknown }).errno;
      if (typeof errno === "number") throw new UringError(errno, "write", { path: o.svg });
      throw e;
    }
    io.write(`wrote ${o.svg}\n`);
  }
  return 0;
}

/** One picture per keypress: space/enter/n/→ next, q/Esc/Ctrl-C quit. */
async function interact(gen: Generator<RingPicture>, io: LearnIo): Promise<RingPicture | null> {
  const stdin = io.stdin;
  let current: RingPicture | null = null;
  const show = (p: RingPicture) => {
    current = p;
    io.write(`\x1b[2J\x1b[H${renderText(p)}\n\n   [space/enter] next step   [q] quit\n`);
  };
  const first = gen.next();
  if (first.done) return null;
  show(first.value);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    await new Promise<void>((resolve) => {
      const onKey = (buf: Buffer) => {
        const k = buf.toString();
        if (k === "q" || k === "\x1b" || k === "\x03") {
          stdin.off("data", onKey);
          resolve();
          return;
        }
        if (k === " " || k === "\r" || k === "\n" || k === "n" || k === "\x1b[C") {
          const next = gen.next();
          if (next.done) {
            io.write("\n   end of the course. [q] quit\n");
            return;
          }
          show(next.value);
        }
      };
      stdin.on("data", onKey);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    gen.return(undefined);
  }
  return current;
}
