/**
 * The entry of a copyTree worker thread (a Bun Worker started by lib/copy-workers.ts): on "init"
 * it attaches to the shared queue; on each "job" (a copy opened) it claims and copies chunks
 * (lib/copy-worker-core.ts), posting each chunk's number back, until the copy closes; then it
 * returns to its event loop, where it idles until the next copy.
 */
import { attach, markWorkerThread, runWorker, type Views } from "./copy-worker-core.ts";
import type { SharedState } from "./copy-worker-shared.ts";

declare const self: Worker;
markWorkerThread();
let v: Views | null = null;
let id = 0;
const post = (seq: number) => postMessage(seq);

self.onmessage = (e: MessageEvent) => {
  const m = e.data as { init?: SharedState; id?: number; job?: true };
  if (m.init) {
    v = attach(m.init);
    id = m.id ?? 0;
    postMessage("ready");
  } else if (m.job && v) {
    runWorker(v, id, post);
    postMessage("idle");
  }
};
