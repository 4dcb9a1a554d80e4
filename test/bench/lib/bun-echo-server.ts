/**
 * The yardstick of the echo bench: an echo server written with `Bun.listen`,
 * as a Bun user would write it. It echoes every chunk back on the same
 * socket, keeping what the socket did not take (a short write) for `drain`, so
 * it never reorders nor drops bytes.
 *
 * Usage: bun test/bench/lib/bun-echo-server.ts [--port N] [--host H]
 * (defaults 127.0.0.1 and 0, any free port). The first line on stdout is
 * `listening on HOST:PORT`, like `examples/echo-server.ts`, so one client
 * script drives both. SIGTERM/SIGINT stop it.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" } },
  allowPositionals: false,
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`bun-echo-server: --port must be 0…65535; got ${values.port}`);
  process.exit(2);
}

/** Per-connection state: bytes the socket has not accepted yet, in order. */
interface Conn {
  pending: Uint8Array[];
}

function flush(socket: { write(b: Uint8Array): number }, conn: Conn): void {
  while (conn.pending.length > 0) {
    const head = conn.pending[0]!;
    const n = socket.write(head);
    if (n < head.length) {
      conn.pending[0] = head.subarray(Math.max(n, 0));
      return;
    }
    conn.pending.shift();
  }
}

const server = Bun.listen<Conn>({
  hostname: values.host!,
  port,
  socket: {
    open(socket) {
      socket.data = { pending: [] };
    },
    data(socket, chunk) {
      const conn = socket.data;
      if (conn.pending.length > 0) {
        conn.pending.push(chunk.slice()); // the chunk's memory is only ours during this call
        return;
      }
      const n = socket.write(chunk);
      if (n < chunk.length) conn.pending.push(chunk.slice(Math.max(n, 0)));
    },
    drain(socket) {
      flush(socket, socket.data);
    },
    error(_socket, err) {
      if ((err as { code?: string }).code !== "ECONNRESET") console.error(`bun-echo-server: ${err.message}`);
    },
  },
});

console.log(`listening on ${server.hostname}:${server.port}`);
const stop = () => {
  server.stop(true);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
