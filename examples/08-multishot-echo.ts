/**
 * 08-multishot-echo — a TCP echo server on the raw ring: one accept, one recv per
 * connection, buffers the kernel picks.
 *
 * Usage: bun examples/08-multishot-echo.ts [PORT] [--max N]
 *   PORT 0 (the default) picks a free port; the first line printed is
 *   "listening on 127.0.0.1:PORT". With --max N the server exits after N
 *   connections have come and gone, printing what it served.
 *
 * What it teaches: multishot operations and provided-buffer rings.
 *   - The listener is made with io_uring too: IORING_OP_SOCKET, BIND, LISTEN.
 *   - One multishot ACCEPT (io_uring_prep_multishot_accept) posts a CQE per
 *     new connection, with IORING_CQE_F_MORE while it stays armed; if a CQE
 *     comes without F_MORE, it has ended and is armed again.
 *   - One multishot RECV per connection (io_uring_prep_recv_multishot) with
 *     IOSQE_BUFFER_SELECT: no buffer is tied up while a client is silent. The
 *     kernel takes a buffer from the ring registered with io_uring_setup_buf_ring
 *     when data arrives and names it in the CQE (flags >> IORING_CQE_BUFFER_SHIFT).
 *     We copy the bytes out and give the buffer back (add + advance), so 64
 *     buffers serve any number of clients. -ENOBUFS means the ring ran dry:
 *     the recv ends and is armed again once buffers are back.
 *   - SEND: one in flight per connection, so echoes leave in order; a short
 *     send queues the rest; the bytes stay referenced until its CQE.
 *   - user_data packs what a CQE is about: the kind in the high bits, the fd low.
 *   - A recv of 0 bytes is the client's EOF: close the socket (IORING_OP_CLOSE).
 *
 * Minimum kernel: Linux 6.11 (IORING_OP_BIND and IORING_OP_LISTEN, which this program uses;
 * multishot recv needs 6.0, multishot accept and buffer rings 5.19).
 */
import {
  AF_INET,
  errnoMessage,
  IORING_ASYNC_CANCEL_ALL,
  IORING_CQE_F_MORE,
  IOSQE_BUFFER_SELECT,
  IOSQE_IO_HARDLINK,
  prepCancelFd,
  IoUring,
  BufferRing,
  prepBind,
  prepClose,
  prepListen,
  prepMultishotAccept,
  prepRecvMultishot,
  prepSend,
  prepSocket,
  SOCK_CLOEXEC,
  SOCK_STREAM,
  sockaddr,
  type Cqe,
  type Sqe,
} from "../lib/index.ts";
import { getsockname } from "../ffi/syscalls.ts";
import { addressOf, parseSockaddr } from "../lib/index.ts";

const args = process.argv.slice(2);
const maxAt = args.indexOf("--max");
const max = maxAt >= 0 ? Number(args[maxAt + 1]) : Infinity;
const port = Number(args.find((a, i) => !a.startsWith("--") && i !== maxAt + 1) ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535 || !(max > 0)) {
  console.error("usage: bun examples/08-multishot-echo.ts [PORT] [--max N]");
  process.exit(2);
}

const BGID = 0;
const ACCEPT = 1;
const RECV = 2;
const SEND = 3;
const CLOSE = 4;
const CANCEL = 5;
const TWO32 = 2 ** 32;
const data = (kind: number, fd: number) => kind * TWO32 + fd;

using ring = new IoUring(256, { cqEntries: 4096 });
const buffers: BufferRing = ring.setupBufRing(BGID, 64, 2048);

/** A free SQE; when the SQ is full, submit what is there first. */
function sqe(): Sqe {
  return ring.getSqe() ?? (ring.submit(), ring.getSqeOrThrow());
}

/** One blocking op at startup (socket, bind, listen). */
function one(fill: (s: Sqe) => void, what: string): number {
  fill(sqe());
  ring.submitAndWait(1);
  const cqe = ring.waitCqe();
  const res = cqe.res;
  ring.cqeSeen(cqe);
  if (res < 0) {
    console.error(`08-multishot-echo: ${what}: ${errnoMessage(res)}`);
    process.exit(1);
  }
  return res;
}

const listener = one((s) => prepSocket(s, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
const bindAddr = sockaddr("127.0.0.1", port);
one((s) => prepBind(s, listener, bindAddr), "bind");
one((s) => prepListen(s, listener, 1024), "listen");
const sa = new Uint8Array(128);
const saLen = Uint32Array.of(128);
getsockname(listener, addressOf(sa), addressOf(saLen));
console.log(`listening on 127.0.0.1:${parseSockaddr(sa, saLen[0]).port}`);

/** Per connection: echoes waiting to be sent (the first one is in flight). */
const outbox = new Map<number, Uint8Array[]>();
let served = 0;
let echoed = 0;
let open = 0;

function armAccept(): void {
  const s = sqe();
  prepMultishotAccept(s, listener, null, null, SOCK_CLOEXEC);
  s.userData = data(ACCEPT, listener);
}

function armRecv(fd: number): void {
  const s = sqe();
  prepRecvMultishot(s, fd, null);
  s.flags = IOSQE_BUFFER_SELECT;
  s.bufGroup = BGID;
  s.userData = data(RECV, fd);
}

function sendHead(fd: number): void {
  const bytes = outbox.get(fd)![0]!; // stays referenced in the outbox until its CQE
  const s = sqe();
  prepSend(s, fd, bytes);
  s.userData = data(SEND, fd);
}

function echo(fd: number, bytes: Uint8Array): void {
  const q = outbox.get(fd);
  if (!q) return; // closing
  q.push(bytes);
  if (q.length === 1) sendHead(fd);
}

/** Close a connection. If its recv may still be armed (an error, not EOF), cancel it first, hard-linked to the close. */
function close(fd: number, recvArmed: boolean): void {
  outbox.delete(fd);
  if (recvArmed) {
    const c = sqe();
    prepCancelFd(c, fd, IORING_ASYNC_CANCEL_ALL);
    c.flags = IOSQE_IO_HARDLINK;
    c.userData = data(CANCEL, fd);
  }
  const s = sqe();
  prepClose(s, fd);
  s.userData = data(CLOSE, fd);
}

function handle(cqe: Cqe): void {
  const kind = Math.floor(cqe.userData / TWO32);
  const fd = cqe.userData % TWO32;
  const { res, flags } = cqe;
  switch (kind) {
    case ACCEPT:
      if (res >= 0) {
        open++;
        outbox.set(res, []);
        armRecv(res);
      } else console.error(`08-multishot-echo: accept: ${errnoMessage(res)}`);
      if (!(flags & IORING_CQE_F_MORE)) armAccept();
      return;
    case RECV: {
      if (!outbox.has(fd)) return; // a recv cancelled on the way to close
      if (res > 0) {
        const bid = BufferRing.bufferId(flags);
        echo(fd, buffers.view(bid, res).slice()); // copy out, then give the buffer back
        buffers.recycle(bid);
        if (!(flags & IORING_CQE_F_MORE)) armRecv(fd);
      } else if (res === 0 || res !== -105) {
        if (res < 0 && res !== -104) console.error(`08-multishot-echo: recv: ${errnoMessage(res)}`); // ECONNRESET is a goodbye
        close(fd, (flags & IORING_CQE_F_MORE) !== 0);
      } else armRecv(fd); // -ENOBUFS: the buffer ring ran dry; buffers come back as echoes go out
      return;
    }
    case SEND: {
      const q = outbox.get(fd);
      if (!q) return;
      if (res < 0) return close(fd, true);
      echoed += res;
      const head = q[0]!;
      if (res < head.byteLength) q[0] = head.subarray(res); // short send: the rest goes next
      else q.shift();
      if (q.length) sendHead(fd);
      return;
    }
    case CLOSE:
      open--;
      served++;
      return;
    case CANCEL:
      return;
  }
}

armAccept();
while (served < max || open > 0) {
  ring.submitAndWait(1);
  ring.forEachCqe(handle);
}
console.log(`served ${served} connections, echoed ${echoed} bytes`);
