/**
 * Model-based fuzzing of the raw ring (the model is test/fuzz/model.ts): seeded random sequences
 * of nop/read/write/link/hardlink/drain/timeout/cancel over random ring and CQ sizes; every CQE's
 * user_data and res, every byte read and written, and the kernel's ordering guarantees are checked.
 *
 * CI runs FUZZ_CASES (default 120) seeds from FUZZ_BASE_SEED (default 1); FUZZ_SEED=n runs one seed.
 * A failure prints the seed that reproduces it.
 */
import { expect } from "bun:test";
import { join } from "node:path";
import { generate, runCase, writePattern } from "./fuzz/model.ts";
import { kernelTest as test, tempDir } from "./helpers.ts";

const one = process.env.FUZZ_SEED;
const cases = Number(process.env.FUZZ_CASES ?? 120);
const baseSeed = Number(process.env.FUZZ_BASE_SEED ?? 1);
const seeds = one !== undefined ? [Number(one)] : Array.from({ length: cases }, (_, k) => baseSeed + k);

test(
  `model-based fuzz: ${seeds.length} seeded cases, every CQE predicted`,
  () => {
    const dir = tempDir("bun-uring-fuzz-");
    try {
      const patternSeed = 0x5eed;
      const pattern = writePattern(dir.path, patternSeed);
      let ops = 0;
      const shapes = new Set<string>();
      for (const seed of seeds) {
        const c = generate(seed, patternSeed, Number(process.env.FUZZ_OPS ?? 60));
        runCase(c, pattern, join(dir.path, `scratch-${seed}.bin`));
        ops += c.ops.length;
        shapes.add(`${c.entries}/${c.cqEntries}`);
      }
      expect(ops).toBeGreaterThanOrEqual(seeds.length * 60 * (process.env.FUZZ_OPS ? 0 : 1));
      if (seeds.length >= 50) expect(shapes.size).toBeGreaterThan(5); // the sizes really vary
    } finally {
      dir.cleanup();
    }
  },
  Math.max(60_000, seeds.length * 2_000),
);
