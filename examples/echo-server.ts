/**
 * echo-server — the classic io_uring echo server, on the Promise tier.
 *
 * Usage: bun examples/echo-server.ts [--port N] [--host H] [--entries N]
 *        (defaults: --host 127.0.0.1 --port 0, i.e. any free port; H may be a
 *        name such as localhost, resolved once at startup. --entries sizes the
 *        SQ, default 256; the CQ is twice that. A tiny ring, say --entries 2,
 *        makes the CQ overflow all the time — a good stress test.)
 *
 * The first line on stdout is always `listening on HOST:PORT`, with the port
 * the kernel actually bound, so scripts and benchmarks can parse it. Try it:
 *   bun examples/echo-server.ts --port 7777 &  then  nc 127.0.0.1 7777
 *
 * What it teaches: a whole network server as nested loops over the ring, and
 * not one readiness callback:
 *   - `io.listenTcp()` builds the listening socket through the ring
 *     (IORING_OP_SOCKET, IORING_OP_BIND, IORING_OP_LISTEN);
 *   - `for await (const fd of io.acceptMany(listenFd))` is ONE multishot accept
 *     SQE (IORING_ACCEPT_MULTISHOT): the kernel posts a CQE per connection
 *     (flag IORING_CQE_F_MORE: "more to come") without being asked again;
 *   - `for await (const chunk of io.recvMany(fd))` is ONE multishot recv per
 *     connection (IORING_RECV_MULTISHOT) into a provided-buffer ring (here
 *     16 × 16 KiB per connection): the kernel picks a buffer only when data
 *     arrives; with `zeroCopy: true` the iterator lends that very buffer and
 *     hands it back to the kernel when the loop asks for the next chunk (by
 *     default it copies the bytes out and hands the buffer back at once); a
 *     0-byte CQE means the peer closed;
 *   - a multishot request can end while the socket is fine: the kernel drops
 *     IORING_CQE_F_MORE from a successful CQE when the CQ is full (or, for a
 *     recv, when it ran out of provided buffers), and the application must
 *     re-arm it. `Uring`'s iterators do that by themselves;
 *   - `await io.send(fd, chunk)` may send fewer bytes than asked for (a short
 *     send) — loop on the rest;
 *   - each connection's errors (ECONNRESET, EPIPE, …) close that connection
 *     only; the server keeps serving;
 *   - shutdown: on SIGINT/SIGTERM, abort the accept (which cancels the
 *     multishot accept in the kernel) and every connection's recv, let each
 *     handler finish echoing what it already has and close its socket, then
 *     `await io.close()` — which waits until the kernel has let go of every
 *     buffer — and exit 0.
 * Each connection echoes in order: its handler awaits every send before it
 * takes the next chunk. Chunks that arrive meanwhile queue in the iterator
 * (a real server would stop reading at some high-water mark).
 *
 * Minimum kernel: Linux 6.11 (IORING_OP_BIND and IORING_OP_LISTEN, used by
 * listenTcp); the multishot accept needs 5.19, the multishot recv with a
 * provided-buffer ring 6.0.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { z } from "zod";
import { MSG_NOSIGNAL, Uring, UringError } from "../lib/index.ts";

const USAGE = "usage: bun examples/echo-server.ts [--port N] [--host H] [--entries N]";

// ---------------------------------------------------------------------------- arguments (parsed once, at the edge)

const Args = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  entries: z.coerce.number().int().min(1).max(32768),
});

function parseCli(): z.infer<typeof Args> {
  try {
    const { values } = parseArgs({
      options: {
        port: { type: "string", default: "0" },
        host: { type: "string", default: "127.0.0.1" },
        entries: { type: "string", default: "256" },
      },
      allowPositionals: false,
    });
    return Args.parse(values);
  } catch (err) {
    const why = err instanceof z.ZodError ? err.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; ") : (err as Error).message;
    console.error(`echo-server: ${why}\n${USAGE}`);
    process.exit(2);
  }
}

const { host, port, entries } = parseCli();

// ---------------------------------------------------------------------------- the server

/** Send all of `bytes`, looping on short sends. MSG_NOSIGNAL: a vanished peer is EPIPE, not a SIGPIPE. */
async function sendAll(io: Uring, fd: number, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    done += await io.send(fd, done === 0 ? bytes : bytes.subarray(done), MSG_NOSIGNAL);
  }
}

/** Errors a peer can cause: they close its connection without a message. */
const PEER_ERRORS = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "EHOSTUNREACH", "ENETUNREACH"]);
/** Errors of accept that pass (out of fds or memory for a moment, a client that gave up): wait, re-arm. */
const TRANSIENT_ACCEPT_ERRORS = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM", "ECONNABORTED", "EPERM", "EINTR"]);

const isAbort = (err: unknown) => (err as Error)?.name === "AbortError" || (err as { code?: string })?.code === "ERR_URING_CLOSED";

/** Live connections: fd → the AbortController that ends its reads at shutdown. */
const connections = new Map<number, AbortController>();
/** One promise per live connection handler; shutdown waits for them. */
const handlers = new Set<Promise<void>>();
let stopping = false;

/** Echo one connection until the peer closes or fails, then close its socket. */
async function serve(io: Uring, fd: number): Promise<void> {
  const stop = new AbortController();
  connections.set(fd, stop);
  try {
    // Ends when the peer closes (a 0-byte CQE); the iterator re-arms the multishot recv if the kernel stops it.
    // zeroCopy: each chunk is the ring's own buffer, lent until we ask for the next one — safe
    // here because the send is awaited before the loop moves on.
    for await (const chunk of io.recvMany(fd, { signal: stop.signal, buffers: 16, zeroCopy: true })) {
      // One send usually takes it all; a short send goes on with the rest.
      const sent = await io.send(fd, chunk, MSG_NOSIGNAL);
      if (sent < chunk.length) await sendAll(io, fd, chunk.subarray(sent));
    }
  } catch (err) {
    // Only this connection is affected: fall through to close it.
    const code = (err as UringError).code;
    if (!isAbort(err) && !(err instanceof UringError && PEER_ERRORS.has(code))) {
      console.error(`echo-server: connection fd ${fd}: ${(err as Error).message}`);
    }
  } finally {
    connections.delete(fd);
    // Through the ring while it is open; if the ring is closing, it rejects: not worth a message.
    await io.closeFd(fd).catch(() => undefined);
  }
}

function setup(): Uring {
  try {
    // Every open connection keeps one multishot recv armed for its whole life; `Uring` does not count
    // those against maxInFlight, so any number of idle connections leaves room for sends and recvs.
    return new Uring({ entries });
  } catch (err) {
    console.error(`echo-server: ${(err as Error).message}`);
    process.exit(1);
  }
}

const io = setup();

let listener: { fd: number; address: { address: string; port: number; family: string } };
try {
  // listenTcp takes address literals; resolve a name such as "localhost" first.
  const address = isIP(host) ? host : (await lookup(host)).address;
  listener = await io.listenTcp(address, port);
} catch (err) {
  console.error(`echo-server: cannot listen on ${host}:${port}: ${(err as Error).message}`);
  await io.close();
  process.exit(1);
}
const shown = listener.address.family === "IPv6" ? `[${listener.address.address}]` : listener.address.address;
console.log(`listening on ${shown}:${listener.address.port}`);

const stopAccepting = new AbortController();

/** Stop accepting, let every connection finish and close, close the ring, and exit with `code`. */
async function shutdown(reason: string, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.error(`echo-server: ${reason}: stopping (${connections.size} open connection(s))`);
  // 1. Stop accepting: the abort cancels the multishot accept in the kernel; the accept loop ends.
  stopAccepting.abort();
  // 2. Stop reading: each handler echoes what it already has, then closes its socket.
  for (const stop of connections.values()) stop.abort();
  // 3. Wait for the handlers — but not forever: a send to a peer that never reads is cut off by io.close().
  await Promise.race([Promise.all(handlers), Bun.sleep(2000)]);
  // 4. Close the listener, cancel whatever is left, and wait until the kernel is done with every buffer.
  await io.closeFd(listener.fd).catch(() => undefined);
  await io.close();
  process.exit(code);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

while (!stopping) {
  try {
    for await (const fd of io.acceptMany(listener.fd, { signal: stopAccepting.signal })) {
      const h = serve(io, fd);
      handlers.add(h);
      void h.finally(() => handlers.delete(h));
    }
    // The iterator ends only when we abort it (it re-arms a multishot accept the kernel stopped).
  } catch (err) {
    if (stopping || isAbort(err)) break;
    const code = (err as { code?: string }).code ?? "";
    console.error(`echo-server: accept: ${(err as Error).message}`);
    if (!TRANSIENT_ACCEPT_ERRORS.has(code)) {
      // The listening socket itself failed: not one connection's problem, so stop.
      await shutdown("accept failed", 1);
      break;
    }
    await Bun.sleep(100); // out of fds or memory: give the open connections a moment to finish
  }
}
