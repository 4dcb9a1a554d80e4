/**
 * The socket half of the safe tier against the real kernel, over loopback:
 * listenTcp, socket/connect/accept, send/recv, shutdown, and the multishot
 * iterators acceptMany and recvMany (provided-buffer rings, ENOBUFS re-arm,
 * cancellation on `break`). IPv6 runs where `::1` is configured.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import { AF_INET6, Uring, UringError, type SocketAddress } from "../lib/index.ts";
import { describeKernel, kernelTest as test } from "./helpers.ts";

const SHUT_WR = 1;
const SHUT_RDWR = 2;

const hasIPv6Loopback =
  existsSync("/proc/net/if_inet6") && readFileSync("/proc/net/if_inet6", "utf8").includes("00000000000000000000000000000001");
const ipv6Test = hasIPv6Loopback ? test : test.skip;

async function waitFor(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await Bun.sleep(2);
  }
  return true;
}

/** Deterministic bytes: a pattern that never repeats within 64 KiB, so a lost or duplicated chunk shows. */
function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >>> 8) * 7 + seed) & 255;
  return out;
}

describeKernel("Uring sockets", () => {
  let io: Uring;
  /** fds to close after the suite (closing an fd twice is harmless here: errors are ignored). */
  const fds: number[] = [];
  beforeAll(() => {
    io = new Uring();
  });
  afterAll(async () => {
    await Promise.all(fds.map((fd) => io.closeFd(fd).catch(() => {})));
    await io.close();
  });

  /** A listening socket on 127.0.0.1 (or `host`) and a connected pair through it: [client, server]. */
  async function pair(host = "127.0.0.1"): Promise<{ listener: number; address: SocketAddress; client: number; server: number }> {
    const { fd: listener, address } = await io.listenTcp(host, 0);
    fds.push(listener);
    const client = await io.socket(address.family === "IPv6" ? AF_INET6 : undefined);
    fds.push(client);
    const accepted = io.accept(listener);
    await io.connect(client, { host, port: address.port });
    const { fd: server } = await accepted;
    fds.push(server);
    return { listener, address, client, server };
  }

  test("listenTcp('127.0.0.1', 0): an fd and the real bound address", async () => {
    const { fd, address } = await io.listenTcp("127.0.0.1", 0);
    fds.push(fd);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(address.family).toBe("IPv4");
    expect(address.address).toBe("127.0.0.1");
    expect(address.port).toBeGreaterThan(0);
    expect(address.port).toBeLessThan(65536);
    // someone else can connect to that port: it is really listening
    const connected = await new Promise<boolean>((resolve) => {
      const s = net.connect(address.port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    expect(connected).toBe(true);
    // the port is taken now
    const e = await io.listenTcp("127.0.0.1", address.port).catch((err: unknown) => err as UringError);
    expect(e).toBeInstanceOf(UringError);
    expect((e as UringError).code).toBe("EADDRINUSE");
  });

  test("socket + connect + accept: accept resolves { fd, address } with the client's address", async () => {
    const { fd: listener, address } = await io.listenTcp("127.0.0.1", 0);
    fds.push(listener);
    const accepted = io.accept(listener);
    const client = net.connect(address.port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => client.once("connect", resolve).once("error", reject));
    try {
      const { fd, address: peer } = await accepted;
      fds.push(fd);
      expect(fd).toBeGreaterThanOrEqual(0);
      expect(peer.family).toBe("IPv4");
      expect(peer.address).toBe("127.0.0.1");
      expect(peer.port).toBe(client.localPort!);
    } finally {
      client.destroy();
    }
    // and io.socket/io.connect as the client
    const { client: c, server: s } = await pair();
    expect(c).not.toBe(s);
  });

  test("connect to a closed port rejects with ECONNREFUSED", async () => {
    const { fd: listener, address } = await io.listenTcp("127.0.0.1", 0);
    await io.closeFd(listener); // the port is free again, and nobody listens on it
    const s = await io.socket();
    fds.push(s);
    const e = await io.connect(s, { host: "127.0.0.1", port: address.port }).catch((err: unknown) => err as UringError);
    expect(e).toBeInstanceOf(UringError);
    expect((e as UringError).code).toBe("ECONNREFUSED");
    expect((e as UringError).syscall).toBe("connect");
  });

  test("send/recv round trip", async () => {
    const { client, server } = await pair();
    const ping = new TextEncoder().encode("ping from the client");
    expect(await io.send(client, ping)).toBe(ping.length);
    const buf = new Uint8Array(256);
    const n = await io.recv(server, buf);
    expect(new TextDecoder().decode(buf.subarray(0, n))).toBe("ping from the client");
    // back the other way, with a typed array that is not bytes
    const pong = new Uint32Array([0x676e6f70]); // "pong"
    expect(await io.send(server, pong)).toBe(4);
    const back = new Uint8Array(16);
    expect(await io.recv(client, back)).toBe(4);
    expect(new TextDecoder().decode(back.subarray(0, 4))).toBe("pong");
    // a recv that waits for data does not block the event loop
    let ticks = 0;
    const h = setInterval(() => ticks++, 5);
    const later = io.recv(server, buf);
    await Bun.sleep(60);
    await io.send(client, new Uint8Array([42]));
    expect(await later).toBe(1);
    clearInterval(h);
    expect(buf[0]).toBe(42);
    expect(ticks).toBeGreaterThanOrEqual(3);
  });

  test("shutdown(SHUT_WR): the peer reads EOF and can still answer", async () => {
    const { client, server } = await pair();
    await io.send(client, new TextEncoder().encode("last words"));
    await io.shutdown(client, SHUT_WR);
    const buf = new Uint8Array(64);
    expect(await io.recv(server, buf)).toBe(10);
    expect(await io.recv(server, buf)).toBe(0); // EOF
    expect(await io.send(server, new TextEncoder().encode("reply"))).toBe(5);
    expect(await io.recv(client, buf)).toBe(5);
    await io.shutdown(server, SHUT_RDWR);
    expect(await io.recv(client, buf)).toBe(0);
    const e = await io.send(client, new Uint8Array(1)).catch((err: unknown) => err as UringError);
    expect(e).toBeInstanceOf(UringError);
    expect((e as UringError).code).toBe("EPIPE");
  });

  test("acceptMany: an async iterator accepts 5 clients; break cancels the multishot", async () => {
    const { fd: listener, address } = await io.listenTcp("127.0.0.1", 0);
    fds.push(listener);
    const base = io.inFlight;
    const clients: { close(): void }[] = [];
    const accepted: number[] = [];
    const connectAll = (async () => {
      await Bun.sleep(10); // the multishot accept is armed first
      // a mix of clients: node:net, Bun.connect and io.connect
      for (let k = 0; k < 5; k++) {
        if (k % 3 === 0) {
          const s = net.connect(address.port, "127.0.0.1");
          s.on("error", () => {});
          clients.push({ close: () => s.destroy() });
        } else if (k % 3 === 1) {
          const s = await Bun.connect({ hostname: "127.0.0.1", port: address.port, socket: { data() {} } });
          clients.push({ close: () => s.end() });
        } else {
          const fd = await io.socket();
          fds.push(fd);
          await io.connect(fd, { host: "127.0.0.1", port: address.port });
        }
      }
    })();
    const it = io.acceptMany(listener);
    expect(typeof it[Symbol.asyncIterator]).toBe("function");
    const t0 = performance.now();
    for await (const fd of it) {
      expect(fd).toBeGreaterThanOrEqual(0);
      accepted.push(fd);
      fds.push(fd);
      if (accepted.length === 5) break;
    }
    await connectAll;
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(new Set(accepted).size).toBe(5);
    // break → return() → the multishot accept is cancelled in the kernel
    expect(await waitFor(() => io.inFlight === base)).toBe(true);
    // the listener no longer has an accept armed: a new client is only accepted by a new accept
    const late = net.connect(address.port, "127.0.0.1");
    late.on("error", () => {});
    const one = await io.accept(listener, { timeout: 2000 });
    fds.push(one.fd);
    expect(one.address.address).toBe("127.0.0.1");
    late.destroy();
    for (const c of clients) c.close();
  });

  test("breaking out of acceptMany closes the connections it accepted but never handed out", async () => {
    // uring.ts #multishot() return(): `values.length = 0` drops fds the kernel already accepted and the
    // iterator buffered; nobody can close them any more (an fd leak, and the clients hang, never seeing EOF).
    const { fd: listener, address } = await io.listenTcp("127.0.0.1", 0);
    fds.push(listener);
    const it = io.acceptMany(listener);
    const clients = [0, 1, 2].map(() => net.connect(address.port, "127.0.0.1"));
    const closedByPeer = clients.map(
      (c) =>
        new Promise<boolean>((resolve) => {
          c.on("end", () => resolve(true));
          c.on("close", () => resolve(true));
          c.on("error", () => resolve(true));
        }),
    );
    try {
      const first = await it.next();
      fds.push(first.value as number);
      await Bun.sleep(50); // the other two are accepted by the kernel and buffered in the iterator
      await it.return!();
      const others = await Promise.all(closedByPeer.slice(1).map((p) => Promise.race([p, Bun.sleep(1000).then(() => false)])));
      expect(others).toEqual([true, true]);
    } finally {
      for (const c of clients) c.destroy();
    }
  });

  test("acceptMany ends when its signal aborts", async () => {
    const { fd: listener } = await io.listenTcp("127.0.0.1", 0);
    fds.push(listener);
    const base = io.inFlight;
    const ac = new AbortController();
    const it = io.acceptMany(listener, { signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    const t0 = performance.now();
    const e = await (async () => {
      try {
        for await (const fd of it) fds.push(fd);
      } catch (err) {
        return err as Error;
      }
      return null;
    })();
    expect(e?.name).toBe("AbortError");
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(await waitFor(() => io.inFlight === base)).toBe(true);
  });

  test("recvMany: several messages, then the iterator ends when the peer closes", async () => {
    const { client, server } = await pair();
    const messages = ["one", "two, a little longer", "three", "x".repeat(5000)];
    const sender = (async () => {
      for (const m of messages) {
        await io.send(client, new TextEncoder().encode(m));
        await Bun.sleep(15); // separate segments
      }
      await io.closeFd(client);
    })();
    const chunks: Uint8Array[] = [];
    for await (const chunk of io.recvMany(server)) {
      expect(chunk).toBeInstanceOf(Uint8Array);
      expect(chunk.length).toBeGreaterThan(0);
      chunks.push(chunk);
    }
    await sender;
    expect(chunks.length).toBeGreaterThanOrEqual(messages.length);
    expect(Buffer.concat(chunks).toString()).toBe(messages.join(""));
    expect(io.inFlight).toBe(0);
  });

  /**
   * 100 KiB sent from `client` (then SHUT_WR), piled up in the socket before the receiving loop
   * starts: the kernel then runs out of two 64-byte buffers at once, ends the multishot with
   * ENOBUFS, and recvMany has to re-arm it (many times over).
   */
  async function burst(client: number): Promise<{ data: Uint8Array; sent: Promise<void> }> {
    const data = pattern(100 * 1024);
    const sent = (async () => {
      let off = 0;
      while (off < data.length) off += await io.send(client, data.subarray(off));
      await io.shutdown(client, SHUT_WR);
    })();
    await Bun.sleep(20);
    return { data, sent };
  }

  /** The burst arrived whole and in order, in 64-byte pieces at most, and nothing is left in flight. */
  function expectWhole(chunks: Uint8Array[], data: Uint8Array): void {
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(data.length);
    expect(all.equals(Buffer.from(data))).toBe(true);
    expect(chunks.length).toBeGreaterThanOrEqual(data.length / 64);
    expect(io.inFlight).toBe(0);
  }

  test("recvMany: a 100 KiB burst through 2 buffers of 64 bytes (ENOBUFS re-arm) arrives whole and in order", async () => {
    const { client, server } = await pair();
    const { data, sent } = await burst(client);
    const chunks: Uint8Array[] = [];
    for await (const chunk of io.recvMany(server, { buffers: 2, bufferSize: 64 })) {
      expect(chunk.length).toBeLessThanOrEqual(64);
      chunks.push(chunk);
    }
    await sent;
    expectWhole(chunks, data);
  });

  test("recvMany zeroCopy: each chunk is a lent ring buffer, handed back on the next call — a 100 KiB burst through 2 buffers arrives whole", async () => {
    const { client, server } = await pair();
    const { data, sent } = await burst(client);
    const copies: Buffer[] = [];
    let previous: Uint8Array | null = null;
    for await (const chunk of io.recvMany(server, { buffers: 2, bufferSize: 64, zeroCopy: true })) {
      expect(chunk.length).toBeLessThanOrEqual(64);
      // a lent view of the ring's memory, not a copy: two buffers means two places at most
      if (previous !== null) expect(chunk.buffer).toBe(previous.buffer);
      previous = chunk;
      copies.push(Buffer.from(chunk)); // the caller copies what it keeps past the next call
    }
    await sent;
    // only two buffers: without the hand-back on each next() the kernel would have run dry for good
    expectWhole(copies, data);
  });

  test("recvMany zeroCopy: breaking out while every buffer is lent (the recv paused) ends cleanly: nothing in flight, new iterators on the socket work", async () => {
    const { client, server } = await pair();
    await io.send(client, pattern(4096)); // far more than 2 × 64 bytes: the kernel runs dry
    await Bun.sleep(20);
    let n = 0;
    for await (const chunk of io.recvMany(server, { buffers: 2, bufferSize: 64, zeroCopy: true })) {
      expect(chunk.length).toBeGreaterThan(0);
      if (++n === 2) {
        await Bun.sleep(20); // both buffers held by us: the multishot ended with ENOBUFS and waits
        break;
      }
    }
    expect(io.inFlight).toBe(0);
    // the socket still serves new iterators (and the paused one finished: its group was unregistered)
    for (let k = 0; k < 3; k++) {
      const it = io.recvMany(server, { buffers: 2, bufferSize: 64, zeroCopy: true });
      const r = await it.next();
      expect(r.done).toBe(false);
      await it.return!();
    }
    expect(io.inFlight).toBe(0);
  });

  test("recvMany: break cancels the multishot recv, inFlight goes back to 0, the socket still works", async () => {
    const { client, server } = await pair();
    const base = io.inFlight;
    const sender = (async () => {
      await Bun.sleep(10);
      await io.send(client, new TextEncoder().encode("first"));
    })();
    let got = "";
    for await (const chunk of io.recvMany(server, { buffers: 4, bufferSize: 128 })) {
      got = new TextDecoder().decode(chunk);
      break;
    }
    await sender;
    expect(got).toBe("first");
    expect(await waitFor(() => io.inFlight === base)).toBe(true);
    // nothing consumes data behind our back any more: a plain recv gets the next message
    await io.send(client, new TextEncoder().encode("second"));
    const buf = new Uint8Array(64);
    const n = await io.recv(server, buf, 0, { timeout: 2000 });
    expect(new TextDecoder().decode(buf.subarray(0, n))).toBe("second");
    // and a new recvMany can be started on the same Uring
    const again = io.recvMany(server);
    await io.send(client, new TextEncoder().encode("third"));
    const next = await again.next();
    expect(new TextDecoder().decode(next.value as Uint8Array)).toBe("third");
    await again.return!();
    expect(await waitFor(() => io.inFlight === base)).toBe(true);
  });

  test("recvMany with an aborted signal ends with AbortError", async () => {
    const { server } = await pair();
    const base = io.inFlight;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const e = await (async () => {
      try {
        for await (const _ of io.recvMany(server, { signal: ac.signal })) {
          // nothing is sent
        }
      } catch (err) {
        return err as Error;
      }
      return null;
    })();
    expect(e?.name).toBe("AbortError");
    expect(await waitFor(() => io.inFlight === base)).toBe(true);
  });

  test("recvMany on a small CQ re-arms when the kernel stops the multishot for lack of CQ space", async () => {
    // A final CQE (no IORING_CQE_F_MORE) with res > 0 means the kernel ended the multishot because it
    // could not post another CQE (the CQ was full), not that the stream ended: recvMany must arm again.
    await using small = new Uring({ entries: 2, cqEntries: 4 });
    const { fd: listener, address } = await small.listenTcp("127.0.0.1", 0);
    const client = await small.socket();
    const acc = small.accept(listener);
    await small.connect(client, { host: "127.0.0.1", port: address.port });
    const { fd: server } = await acc;
    try {
      const data = pattern(100 * 1024, 7);
      const sender = (async () => {
        let off = 0;
        while (off < data.length) off += await small.send(client, data.subarray(off));
        await small.shutdown(client, SHUT_WR);
      })();
      const chunks: Uint8Array[] = [];
      for await (const chunk of small.recvMany(server, { buffers: 64, bufferSize: 64 })) chunks.push(chunk);
      await sender;
      expect(Buffer.concat(chunks).length).toBe(data.length);
    } finally {
      for (const fd of [client, server, listener]) await small.closeFd(fd).catch(() => {});
    }
  });

  ipv6Test("IPv6: listenTcp('::1', 0), connect, accept, send/recv", async () => {
    const { address, client, server } = await pair("::1");
    expect(address.family).toBe("IPv6");
    expect(address.address).toBe("::1");
    expect(address.port).toBeGreaterThan(0);
    const { fd: listener2, address: a2 } = await io.listenTcp("::1", 0);
    fds.push(listener2);
    const acc = io.accept(listener2);
    const s = net.connect({ host: "::1", port: a2.port, family: 6 });
    s.on("error", () => {});
    const { fd, address: peer } = await acc;
    fds.push(fd);
    expect(peer.family).toBe("IPv6");
    expect(peer.address).toBe("::1");
    s.destroy();
    await io.send(client, new TextEncoder().encode("v6"));
    const buf = new Uint8Array(8);
    expect(await io.recv(server, buf)).toBe(2);
    expect(new TextDecoder().decode(buf.subarray(0, 2))).toBe("v6");
  });
});
