/**
 * zod at the boundary, loaded only when there is something to validate (lib/options.ts): the
 * shortcuts it takes must give what a parse would, and must never let bad options through.
 */
import { describe, expect, test } from "bun:test";
import { CopyOptionsSchema } from "../lib/copy.ts";
import { IoUringOptionsSchema, parseOptions, trusted } from "../lib/options.ts";
import { UringOptionsSchema } from "../lib/uring.ts";
import { caught, kernelTest, REPO } from "./helpers.ts";

const SCHEMAS = { IoUringOptionsSchema, UringOptionsSchema, CopyOptionsSchema };

describe("option schemas and parseOptions' shortcuts", () => {
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    test(`${name}: parsing {} gives {} (what the no-zod shortcut for absent or empty options returns)`, () => {
      expect(schema().parse({})).toEqual({});
      expect(parseOptions(schema as typeof IoUringOptionsSchema, undefined, "options")).toEqual({});
    });
  }

  test("what is not a plain empty object still goes through zod: an array, a string, a number, a function, a bad key", async () => {
    for (const bad of [[], "x", 1, () => 0]) {
      const e = await caught(() => parseOptions(IoUringOptionsSchema, bad, "options"));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(/"options" is invalid/);
    }
    const e = await caught(() => parseOptions(IoUringOptionsSchema, { sqThreadIdle: -1 }, "options"));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/options\.sqThreadIdle/);
    const u = await caught(() => parseOptions(IoUringOptionsSchema, { nope: 1 }, "options"));
    expect(u.message).toMatch(/nope/);
    // an object without a prototype and no keys is empty options
    expect(parseOptions(IoUringOptionsSchema, Object.create(null), "options")).toEqual({});
  });

  test("a trusted object is taken as it is; an equal object that is not trusted is parsed (and refused)", async () => {
    const o = trusted({ entries: 8, sqThreadIdle: 5 });
    expect(parseOptions(UringOptionsSchema, o, "options")).toBe(o);
    const e = await caught(() => parseOptions(UringOptionsSchema, { entries: 0 }, "options"));
    expect(e).toBeInstanceOf(RangeError);
  });
});

describe("zod is loaded only when something is validated", () => {
  /** Run `body` (after importing bun-uring) in a fresh bun; whether zod got loaded. */
  function zodLoaded(body: string): boolean {
    const script = `import * as B from ${JSON.stringify(`${REPO}/lib/index.ts`)};
${body}
console.log(Object.keys(require.cache).some((k) => k.includes("/node_modules/zod/")));`;
    const p = Bun.spawnSync([process.execPath, "-e", script], { cwd: REPO, stderr: "pipe", timeout: 20_000 });
    if (p.exitCode !== 0) throw new Error(`child failed: ${p.stderr.toString()}`);
    return p.stdout.toString().trim().split("\n").at(-1) === "true";
  }

  test("import alone: no zod", () => {
    expect(zodLoaded("")).toBe(false);
  });
  kernelTest("new Uring() and new IoUring(8) with no options, and copyFile(a, b): no zod; with options: zod", () => {
    const plain = `new B.Uring().close(); new B.IoUring(8).close(); new B.IoUring(8, {}).close();
const d = require("node:fs").mkdtempSync(require("node:os").tmpdir() + "/bu-zod-");
require("node:fs").writeFileSync(d + "/a", "x".repeat(100000));
await B.copyFile(d + "/a", d + "/b");
require("node:fs").rmSync(d, { recursive: true });`;
    expect(zodLoaded(plain)).toBe(false);
    expect(zodLoaded("new B.Uring({ entries: 8 }).close();")).toBe(true);
  });
  kernelTest("a program that imports zod itself shares it with bun-uring: one copy, not the CommonJS build beside the ESM one", () => {
    const script = `import { z } from "zod";
import * as B from ${JSON.stringify(`${REPO}/lib/index.ts`)};
z.string().parse("x");
new B.Uring({ entries: 8 }).close();
const files = Object.keys(require.cache).filter((k) => k.endsWith("/node_modules/zod/index.js") || k.endsWith("/node_modules/zod/index.cjs")).map((k) => k.split("/").at(-1));
console.log(JSON.stringify(files));`;
    const p = Bun.spawnSync([process.execPath, "-e", script], { cwd: REPO, stderr: "pipe", timeout: 20_000 });
    expect(p.stderr.toString()).toBe("");
    expect(JSON.parse(p.stdout.toString().trim())).toEqual(["index.js"]);
  });
});
