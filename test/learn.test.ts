/**
 * `bun-uring learn`: the pictures of both rings, taken from a real ring after each step
 * (and from the labelled synthetic ring for the wrap), as text and as SVG.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { course, renderSvg, renderText, SCENARIO_NAMES, type RingPicture } from "../lib/learn.ts";
import { kernelTest, tempDir } from "./helpers.ts";

const repo = join(import.meta.dir, "..");

function run(...args: string[]) {
  const p = Bun.spawnSync(["bun", "lib/cli.ts", "learn", ...args], { cwd: repo, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** The pictures of one scenario, in order. */
const pictures = (name: string): RingPicture[] => [...course([name])];

/** A minimal XML parser: well-formedness (nesting, quoted attributes, entities) and the element tree. */
interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}
function parseXml(src: string): XmlElement {
  const root: XmlElement = { name: "#document", attrs: {}, children: [], text: "" };
  const stack: XmlElement[] = [root];
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const checkText = (t: string, where: string) => {
    for (let i = 0; i < t.length; i++) {
      if (t[i] === "<") throw new Error(`raw < in ${where}`);
      if (t[i] === "&") {
        entity.lastIndex = i;
        if (!entity.test(t)) throw new Error(`bad entity in ${where}: ${t.slice(i, i + 10)}`);
      }
    }
  };
  const unescape = (t: string) => t.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
  let i = 0;
  src = src.replace(/^<\?xml[^?]*\?>\s*/, "");
  while (i < src.length) {
    const lt = src.indexOf("<", i);
    const text = lt < 0 ? src.slice(i) : src.slice(i, lt);
    if (text.trim()) {
      checkText(text, "text");
      stack[stack.length - 1]!.text += unescape(text);
    }
    if (lt < 0) break;
    const gt = src.indexOf(">", lt);
    if (gt < 0) throw new Error("unterminated tag");
    const tag = src.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith("/")) {
      const open = stack.pop()!;
      if (open.name !== tag.slice(1).trim()) throw new Error(`</${tag.slice(1)}> closes <${open.name}>`);
      continue;
    }
    const selfClosing = tag.endsWith("/");
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*$/.exec(body);
    if (!m) throw new Error(`malformed tag <${tag}>`);
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      checkText(a[2]!, `attribute ${a[1]}`);
      attrs[a[1]!] = unescape(a[2]!);
    }
    const el: XmlElement = { name: m[1]!, attrs, children: [], text: "" };
    stack[stack.length - 1]!.children.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error("expected one root element");
  return root.children[0]!;
}
const all = (el: XmlElement, name: string): XmlElement[] => [
  ...(el.name === name ? [el] : []),
  ...el.children.flatMap((c) => all(c, name)),
];

describe("bun-uring learn", () => {
  kernelTest("learn --steps renders the expected text for the nop scenario", () => {
    const r = run("--scenario", "nop", "--steps", "5");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(import.meta.dir, "fixtures", "learn-nop-5-steps.txt"), "utf8"));
    expect(r.out).not.toContain("\x1b"); // no ANSI when not a terminal
  });

  kernelTest("--steps N prints exactly N pictures, across scenarios in course order", () => {
    const r = run("--steps", "7");
    expect(r.code).toBe(0);
    const heads = r.out.split("\n").filter((l) => l.startsWith("== "));
    expect(heads.length).toBe(7);
    expect(heads[0]).toStartWith("== nop · step 0/4: a fresh ring");
    expect(heads[5]).toStartWith("== batch · step 0/5");
    expect(heads[6]).toStartWith("== batch · step 1/5");
  });

  kernelTest("batch: one tail store and one enter for four SQEs; the head moves once", () => {
    const p = pictures("batch");
    expect(p[1]!.counters).toMatchObject({ sqHead: 0, sqTail: 0, sqeTail: 4 });
    expect(p[1]!.sq.map((s) => s.state)).toEqual(["filled", "filled", "filled", "filled"]);
    expect(p[2]!.result).toBe("submit() → 4 (enterCount 1)");
    expect(p[2]!.counters).toMatchObject({ sqHead: 4, sqTail: 4, cqHead: 0, cqTail: 4 });
    expect(p[2]!.cq.slice(0, 5).map((s) => s.state)).toEqual(["ready", "ready", "ready", "ready", "free"]);
    expect(p[3]!.counters).toMatchObject({ cqHead: 4, cqTail: 4 });
    // the SQ wraps: counters 4 and 5 are slots 0 and 1
    expect(p[4]!.sq.map((s) => s.lines[1] ?? "")).toEqual(["ud=5", "ud=6", "", ""]);
  });

  kernelTest("link: the chain's CQEs are 0, -EBADF, -ECANCELED, drawn in CQ[0..2]", () => {
    const p = pictures("link");
    expect(p[1]!.sq.slice(0, 3).map((s) => s.lines)).toEqual([
      ["NOP", "ud=1", "LINK"],
      ["READ", "ud=2", "LINK"],
      ["NOP", "ud=3", "filled"],
    ]);
    expect(p[2]!.cq.slice(0, 3).map((s) => s.lines)).toEqual([
      ["ud=1", "res=0"],
      ["ud=2", "-EBADF"],
      ["ud=3", "-ECANCELED"],
    ]);
  });

  kernelTest("overflow: the tail stops at 8, CQ_OVERFLOW is set, a GETEVENTS enter flushes the backlog", () => {
    const p = pictures("overflow");
    expect(p[2]!.counters).toMatchObject({ cqHead: 0, cqTail: 8 });
    expect(p[2]!.sqFlags).toEqual([]);
    expect(p[3]!.counters).toMatchObject({ cqHead: 0, cqTail: 8, cqOverflow: 0 });
    expect(p[3]!.sqFlags).toEqual(["CQ_OVERFLOW"]);
    expect(p[4]!.counters).toMatchObject({ cqHead: 8, cqTail: 8 });
    expect(p[4]!.sqFlags).toEqual(["CQ_OVERFLOW"]);
    expect(p[5]!.result).toBe("peekCqe() → user_data=9 after 1 enter");
    expect(p[5]!.counters).toMatchObject({ cqHead: 8, cqTail: 12 });
    expect(p[5]!.sqFlags).toEqual([]);
    expect(p[6]!.result).toContain("9:0 10:0 11:0 12:0");
  });

  test("wrap: the counters pass 2^32 on the synthetic ring, and every picture says it is synthetic", () => {
    const p = pictures("wrap");
    expect(p.every((x) => x.synthetic)).toBe(true);
    expect(p[0]!.counters).toMatchObject({ sqHead: 0xfffffffe, sqTail: 0xfffffffe, cqHead: 0xfffffffe, cqTail: 0xfffffffe });
    expect(p[1]!.counters.sqeTail).toBe(1);
    expect(p[1]!.sq.map((s) => s.lines[1] ?? "")).toEqual(["ud=3", "", "ud=1", "ud=2"]);
    expect(p[2]!.counters).toMatchObject({ sqHead: 1, sqTail: 1, cqHead: 0xfffffffe, cqTail: 1 });
    expect(p[2]!.result).toBe("submit() → 3 (enterCount 0); the peer consumed 3");
    expect(p[2]!.cq.map((s) => s.state)).toEqual(["ready", "free", "free", "free", "free", "free", "ready", "ready"]);
    expect(p[3]!.counters).toMatchObject({ cqHead: 1, cqTail: 1 });
    const text = renderText(p[2]!);
    expect(text).toContain("[synthetic ring: a JS peer plays the kernel]");
    expect(text).toContain("head=0xfffffffe (we write)  tail=1 (kernel writes)");
  });

  kernelTest("--svg writes an SVG that parses and names every slot, with head and tail markers", () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, "rings.svg");
      const r = run("--scenario", "batch", "--steps", "3", "--svg", file);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`wrote ${file}`);
      const svg = parseXml(readFileSync(file, "utf8"));
      expect(svg.name).toBe("svg");
      expect(svg.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
      const texts = all(svg, "text").map((t) => t.text);
      const names = [...Array(4).keys()].map((i) => `SQ[${i}]`).concat([...Array(8).keys()].map((i) => `CQ[${i}]`));
      for (const n of names) expect(texts.filter((t) => t === n).length).toBe(1);
      // each slot is a group holding its rect and its name
      const slots = all(svg, "g").filter((g) => (g.attrs.class ?? "").startsWith("slot "));
      expect(slots.length).toBe(12);
      for (const g of slots) {
        expect(all(g, "rect").length).toBe(1);
        expect(names).toContain(all(g, "text")[0]!.text);
      }
      // step 2 of batch: four CQEs ready, the SQ empty again
      expect(slots.filter((g) => g.attrs.class === "slot ready").length).toBe(4);
      const markers = all(svg, "g").filter((g) => g.attrs.class === "marker").map((g) => all(g, "text")[0]!.text);
      expect(markers).toEqual(["head tail next", "head", "tail"]);
      expect(texts).toContain("batch · step 2: submit(): one tail store, one io_uring_enter for four SQEs");
    } finally {
      dir.cleanup();
    }
  });

  test("the SVG escapes text and labels the synthetic ring", () => {
    const p = pictures("wrap")[0]!;
    const svg = renderSvg({ ...p, title: `a <b> & "c"` });
    const el = parseXml(svg);
    const texts = all(el, "text").map((t) => t.text);
    expect(texts).toContain(`wrap · step 0: a <b> & "c"`);
    expect(texts).toContain("synthetic ring: a JS peer plays the kernel");
  });

  test("bad arguments are usage errors; --help lists every scenario", () => {
    const bad = run("--scenario", "bogus");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--scenario");
    expect(run("--steps", "0").code).toBe(2);
    expect(run("extra").code).toBe(2);
    const h = run("--help");
    expect(h.code).toBe(0);
    for (const n of SCENARIO_NAMES) expect(h.out).toContain(`  ${n} `);
  });
});
