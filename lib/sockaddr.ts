/**
 * struct sockaddr encoding for connect/bind/accept: IPv4 (sockaddr_in, 16 B),
 * IPv6 (sockaddr_in6, 28 B) and Unix paths (sockaddr_un, 110 B). Kernel-free.
 */
import { AF_INET, AF_INET6, AF_UNIX } from "./constants.ts";
import { invalidArgument } from "./errors.ts";

/** A socket address as JS sees it. */
export interface SocketAddress {
  family: "IPv4" | "IPv6" | "unix";
  address: string;
  port: number;
}

/** The largest sockaddr (sockaddr_storage is 128 B): size an accept() buffer with this. */
export const SOCKADDR_STORAGE_SIZE = 128;

function parseIPv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4) return null;
  const out = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return out.every((n) => n >= 0 && n <= 255) ? out : null;
}

function parseIPv6(host: string): number[] | null {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (!h.includes(":")) return null;
  const halves = h.split("::");
  if (halves.length > 2) return null;
  const words = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIPv4(p);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return null;
  const all = [...head, ...new Array(Math.max(0, fill)).fill(0), ...tail];
  const bytes: number[] = [];
  for (const word of all) bytes.push(word >> 8, word & 0xff);
  return bytes;
}

/**
 * Encode `host:port` as a sockaddr. `host` is an IPv4 or IPv6 literal
 * ("127.0.0.1", "::1"; "localhost" means 127.0.0.1). No DNS: resolve names first.
 */
export function sockaddr(host: string, port: number): Uint8Array {
  if (typeof host !== "string") throw invalidArgument("host", `Expected an IP address string; got ${typeof host}.`, "type");
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalidArgument("port", `Expected an integer from 0 to 65535; got ${port}.`, "range");
  }
  const v4 = parseIPv4(host === "localhost" ? "127.0.0.1" : host);
  if (v4) {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, AF_INET, true);
    dv.setUint16(2, port, false);
    b.set(v4, 4);
    return b;
  }
  const v6 = parseIPv6(host);
  if (v6) {
    const b = new Uint8Array(28);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, AF_INET6, true);
    dv.setUint16(2, port, false);
    b.set(v6, 8);
    return b;
  }
  throw invalidArgument("host", `Expected an IPv4 or IPv6 address literal; got ${JSON.stringify(host)}.`);
}

/** Encode a Unix-domain socket path as a sockaddr_un. */
export function sockaddrUnix(path: string): Uint8Array {
  if (typeof path !== "string") throw invalidArgument("path", `Expected a string; got ${typeof path}.`, "type");
  const bytes = new TextEncoder().encode(path);
  if (bytes.length > 107 || path.includes("\0")) {
    throw invalidArgument("path", `A Unix socket path must be at most 107 bytes without NUL; got ${bytes.length}.`, "range");
  }
  const b = new Uint8Array(2 + bytes.length + 1);
  new DataView(b.buffer).setUint16(0, AF_UNIX, true);
  b.set(bytes, 2);
  return b;
}

/** Decode a sockaddr the kernel wrote (accept, getpeername). `len` is the length it reported. */
export function parseSockaddr(bytes: Uint8Array, len?: number): SocketAddress {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument("bytes", "Expected a Uint8Array holding a sockaddr.", "type");
  if (len === undefined) len = bytes.length;
  else if (!Number.isInteger(len) || len < 0) throw invalidArgument("len", `Expected an integer ≥ 0; got ${String(len)}.`, "range");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, Math.min(len, bytes.byteLength));
  const family = dv.byteLength >= 2 ? dv.getUint16(0, true) : -1;
  if (family === AF_INET && dv.byteLength >= 8) {
    return { family: "IPv4", address: Array.from(bytes.subarray(4, 8)).join("."), port: dv.getUint16(2, false) };
  }
  if (family === AF_INET6 && dv.byteLength >= 24) {
    const words: string[] = [];
    for (let i = 0; i < 8; i++) words.push(dv.getUint16(8 + i * 2, false).toString(16));
    // compress the longest run of zero words, as inet_ntop does
    let best = -1;
    let bestLen = 1;
    for (let i = 0; i < 8; ) {
      if (words[i] !== "0") {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && words[j] === "0") j++;
      if (j - i > bestLen) [best, bestLen] = [i, j - i];
      i = j;
    }
    const address =
      best < 0 ? words.join(":") : `${words.slice(0, best).join(":")}::${words.slice(best + bestLen).join(":")}`;
    return { family: "IPv6", address, port: dv.getUint16(2, false) };
  }
  if (family === AF_UNIX) {
    const end = bytes.indexOf(0, 2);
    const path = new TextDecoder().decode(bytes.subarray(2, end < 0 ? Math.min(len, bytes.length) : end));
    return { family: "unix", address: path, port: 0 };
  }
  return { family: "IPv4", address: "", port: 0 };
}
