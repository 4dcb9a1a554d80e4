/**
 * The load generator of the echo bench, run as its own `bun` process so the
 * server under test has the rest of the machine: `connections` TCP
 * connections (Bun.connect), each a ping-pong of `size`-byte messages — send
 * one, wait until all of its bytes came back (checked byte for byte), send
 * the next — for `warmupMs` unmeasured, then `measureMs` measured.
 *
 * Usage: bun test/bench/lib/echo-client.ts HOST PORT [connections=64] [size=64]
 *        [warmupMs=1000] [measureMs=3000] [windowMs=100]
 * Prints one JSON line: messages/s over the whole measured span, the median
 * and MAD of the per-window rates, and the client's own CPU use.
 *
 * Every loop is bounded: it stops by itself after warmupMs + measureMs, and
 * gives up (exit 1) if the connections are not all up within 5 s.
 */
import { mad, median } from "./report.ts";

export interface EchoClientResult {
  connections: number;
  size: number;
  /** Round trips completed in the measured span. */
  messages: number;
  seconds: number;
  /** messages / seconds */
  rate: number;
  /** Median and median absolute deviation of the per-window rates (messages/s). */
  windowMedian: number;
  windowMad: number;
  windows: number;
  /** The client's CPU (user + sys) during the measured span, as a fraction of one core. */
  clientCpu: number;
}

interface Conn {
  index: number;
  /** The message in flight (its bytes are a function of index and seq). */
  msg: Uint8Array;
  /** Bytes of it echoed so far. */
  got: number;
  seq: number;
  /** Bytes the socket did not take yet. */
  unsent: Uint8Array | null;
}

async function main(): Promise<void> {
  const [host = "127.0.0.1", portArg, connArg = "64", sizeArg = "64", warmArg = "1000", measureArg = "3000", windowArg = "100"] =
    process.argv.slice(2);
  const port = Number(portArg);
  const connections = Number(connArg);
  const size = Number(sizeArg);
  const warmupMs = Number(warmArg);
  const measureMs = Number(measureArg);
  const windowMs = Number(windowArg);
  if (!Number.isInteger(port) || port <= 0 || !(connections > 0) || !(size > 0)) {
    console.error("usage: bun test/bench/lib/echo-client.ts HOST PORT [connections] [size] [warmupMs] [measureMs] [windowMs]");
    process.exit(2);
  }

  let count = 0;
  let stopped = false;
  let failure: string | null = null;
  const sockets: { end(): void }[] = [];

  const fill = (c: Conn) => {
    const base = (c.index * 31 + c.seq * 7) & 0xff;
    for (let k = 0; k < size; k++) c.msg[k] = (base + k) & 0xff;
  };
  const send = (s: { write(b: Uint8Array): number }, c: Conn) => {
    const n = s.write(c.msg);
    c.unsent = n < c.msg.length ? c.msg.subarray(Math.max(n, 0)) : null;
  };

  let connected = 0;
  let allUp: () => void = () => undefined;
  const up = new Promise<void>((resolve) => (allUp = resolve));
  for (let index = 0; index < connections; index++) {
    const conn: Conn = { index, msg: new Uint8Array(size), got: 0, seq: 0, unsent: null };
    fill(conn);
    const socket = await Bun.connect<Conn>({
      hostname: host,
      port,
      data: conn,
      socket: {
        open(s) {
          s.setNoDelay(true);
          if (++connected === connections) allUp();
          send(s, s.data);
        },
        data(s, chunk) {
          const c = s.data;
          for (let k = 0; k < chunk.length; k++) {
            if (chunk[k] !== c.msg[c.got]) {
              failure ??= `connection ${c.index}: byte ${c.got} of message ${c.seq} came back as ${chunk[k]}, sent ${c.msg[c.got]}`;
              stopped = true;
              return;
            }
            if (++c.got === size) {
              if (k !== chunk.length - 1) {
                failure ??= `connection ${c.index}: ${chunk.length - k - 1} bytes came back that were never sent`;
                stopped = true;
                return;
              }
              count++;
              c.got = 0;
              c.seq++;
              if (stopped) return;
              fill(c);
              send(s, c);
            }
          }
        },
        drain(s) {
          const c = s.data;
          if (c.unsent) {
            const n = s.write(c.unsent);
            c.unsent = n < c.unsent.length ? c.unsent.subarray(Math.max(n, 0)) : null;
          }
        },
        close(s) {
          if (!stopped) failure ??= `connection ${s.data.index} closed by the server`;
        },
        error(s, err) {
          failure ??= `connection ${s.data.index}: ${err.message}`;
        },
      },
    });
    sockets.push(socket);
  }
  const timeout = setTimeout(() => {
    console.error(`echo-client: only ${connected} of ${connections} connections came up within 5 s`);
    process.exit(1);
  }, 5000);
  await up;
  clearTimeout(timeout);

  await Bun.sleep(warmupMs);
  const rates: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const count0 = count;
  let lastT = t0;
  let lastCount = count;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      rates.push(((count - lastCount) * 1000) / (now - lastT));
      lastT = now;
      lastCount = count;
      if (now - t0 >= measureMs || failure) {
        clearInterval(timer);
        resolve();
      }
    }, windowMs);
  });
  const seconds = (performance.now() - t0) / 1000;
  const messages = count - count0;
  const cpu = process.cpuUsage(cpu0);
  stopped = true;
  for (const s of sockets) s.end();
  if (failure) {
    console.error(`echo-client: ${failure}`);
    process.exit(1);
  }
  const result: EchoClientResult = {
    connections,
    size,
    messages,
    seconds,
    rate: messages / seconds,
    windowMedian: median(rates),
    windowMad: mad(rates),
    windows: rates.length,
    clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
  console.log(JSON.stringify(result));
  process.exit(0);
}

if (import.meta.main) await main();
