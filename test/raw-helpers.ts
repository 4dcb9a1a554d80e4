/** Plumbing for the raw-tier suites (ops, flags, registration, setup modes, behaviour): one op at a time, pipes, TCP pairs. */
import { expect } from "bun:test";
import { readSync } from "node:fs";
import { closeFd, getsockname, pipe2 } from "../ffi/syscalls.ts";
import { AF_INET, SOCK_CLOEXEC, SOCK_STREAM } from "../lib/constants.ts";
import { addressOf } from "../lib/memory.ts";
import { prepAccept, prepBind, prepConnect, prepListen, prepSocket } from "../lib/prep.ts";
import type { IoUring } from "../lib/ring.ts";
import { parseSockaddr, sockaddr } from "../lib/sockaddr.ts";
import type { Sqe } from "../lib/sqe.ts";

export interface Done {
  userData: number;
  res: number;
  flags: number;
}

/** Fill one SQE, submit it, wait for its CQE and return it as a plain object. */
export function run(ring: IoUring, fill: (sqe: Sqe) => void, userData = 1): Done {
  queue(ring, fill, userData);
  ring.submitAndWait(1);
  return reap(ring, 1)[0]!;
}

/** Fill one SQE (not submitted). */
export function queue(ring: IoUring, fill: (sqe: Sqe) => void, userData: number, flags = 0): Sqe {
  const sqe = ring.getSqeOrThrow();
  fill(sqe);
  if (flags) sqe.flags |= flags;
  sqe.userData = userData;
  return sqe;
}

/** Reap exactly `n` CQEs, waiting as needed, as plain objects. */
export function reap(ring: IoUring, n: number): Done[] {
  const out: Done[] = [];
  while (out.length < n) {
    const c = ring.waitCqe();
    out.push({ userData: c.userData, res: c.res, flags: c.flags });
    ring.cqeSeen(c);
  }
  return out;
}

/** Reap `n` CQEs and index them by user_data (each user_data once). */
export function reapByData(ring: IoUring, n: number): Map<number, Done> {
  const m = new Map<number, Done>();
  for (const d of reap(ring, n)) m.set(d.userData, d);
  return m;
}

/** A pipe: [read end, write end]. */
export function makePipe(): [number, number] {
  const fds = new Int32Array(2);
  const r = pipe2(addressOf(fds));
  if (r < 0) throw new Error(`pipe2: ${r}`);
  return [fds[0]!, fds[1]!];
}

export function closeAll(...fds: number[]): void {
  for (const fd of fds) if (fd >= 0) closeFd(fd);
}

/** The port a bound socket got. */
export function localPort(fd: number): number {
  const sa = new Uint8Array(128);
  const len = Uint32Array.of(128);
  expect(getsockname(fd, addressOf(sa), addressOf(len))).toBe(0);
  return parseSockaddr(sa, len[0]).port;
}

/** A listening TCP socket on 127.0.0.1 (any port), made with io_uring's socket/bind/listen. */
export function tcpListener(ring: IoUring): { fd: number; port: number } {
  const fd = run(ring, (s) => prepSocket(s, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)).res;
  expect(fd).toBeGreaterThanOrEqual(0);
  const addr = sockaddr("127.0.0.1", 0);
  expect(run(ring, (s) => prepBind(s, fd, addr)).res).toBe(0);
  expect(run(ring, (s) => prepListen(s, fd, 128)).res).toBe(0);
  return { fd, port: localPort(fd) };
}

/** A connected TCP pair over loopback: [server side, client side], plus the listener. */
export function tcpPair(ring: IoUring): { listener: number; server: number; client: number } {
  const l = tcpListener(ring);
  const client = run(ring, (s) => prepSocket(s, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)).res;
  const to = sockaddr("127.0.0.1", l.port);
  queue(ring, (s) => prepAccept(s, l.fd, null, null, SOCK_CLOEXEC), 0xacc);
  queue(ring, (s) => prepConnect(s, client, to), 0xc0);
  ring.submitAndWait(2);
  const got = reapByData(ring, 2);
  expect(got.get(0xc0)!.res).toBe(0);
  const server = got.get(0xacc)!.res;
  expect(server).toBeGreaterThanOrEqual(0);
  return { listener: l.fd, server, client };
}

/** An eventfd's counter (reading resets it), or 0 when it was not signalled since the last read. */
export function eventfdCount(fd: number): number {
  const b = Buffer.alloc(8);
  try {
    readSync(fd, b, 0, 8, null);
  } catch (e) {
    if ((e as { code?: string }).code === "EAGAIN") return 0;
    throw e;
  }
  return Number(b.readBigUInt64LE(0));
}
