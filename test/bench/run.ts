/**
 * `bun run bench [name …]`: print the environment header, then run every
 * `test/bench/*.bench.ts` module's exported `run()` in turn (found by glob, so
 * a new bench file is picked up without touching this one). With arguments,
 * only the benches whose file name contains one of them run:
 * `bun run bench nop`.
 */
import { basename, join } from "node:path";
import { printEnv } from "./env.ts";

interface BenchModule {
  run?: () => unknown;
}

const filters = process.argv.slice(2);
const all: string[] = [];
for await (const file of new Bun.Glob("*.bench.ts").scan({ cwd: import.meta.dir })) all.push(file);
all.sort();

const names = (file: string) => basename(file, ".bench.ts");
const chosen = filters.length ? all.filter((f) => filters.some((want) => names(f).includes(want))) : all;
if (chosen.length === 0) {
  console.error(
    `bench: nothing matches ${filters.map((f) => JSON.stringify(f)).join(", ")}; available: ${all.map(names).join(", ") || "none"}`,
  );
  process.exit(2);
}

printEnv();
let failed = 0;
for (const file of chosen) {
  const mod = (await import(join(import.meta.dir, file))) as BenchModule;
  if (typeof mod.run !== "function") {
    console.error(`bench: ${file} exports no run(); skipped`);
    continue;
  }
  const started = performance.now();
  try {
    await mod.run();
  } catch (err) {
    failed++;
    console.error(`bench: ${names(file)} failed:`, err);
  }
  console.log(`(${names(file)}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
if (failed) process.exitCode = 1;
