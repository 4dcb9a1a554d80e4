/**
 * Progress display for long copies: a pure renderer (`renderProgress`, testable without a
 * terminal or a kernel) and `ProgressLine`, which redraws one line on stderr with `\r`,
 * at most ~10 times a second, and erases it when done so the next message starts on a clean line.
 *
 * Nothing here touches io_uring: the only import is a type.
 */
import { writeSync } from "node:fs";
import type { CopyProgress } from "./copy.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

/**
 * Bytes in binary units, three significant figures: `"0 B"`, `"512 B"`, `"1.5 KiB"`, `"12.3 MiB"`, `"1.25 GiB"`.
 * @example formatBytes(3 * 1024 * 1024) // "3.0 MiB"
 */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "? B";
  if (n < KiB) return `${Math.round(n)} B`;
  const [unit, name] = n < MiB ? [KiB, "KiB"] : n < GiB ? [MiB, "MiB"] : n < TiB ? [GiB, "GiB"] : [TiB, "TiB"];
  const v = n / unit;
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0).replace(/^(\d+\.\d)0$/, "$1")} ${name}`;
}

/**
 * A transfer rate in decimal megabytes per second, as `dd` and disk benchmarks print it: `"123.4 MB/s"`.
 * @example formatRate(250e6) // "250.0 MB/s"
 */
export function formatRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) return "-- MB/s";
  const mb = bytesPerSecond / 1e6;
  return `${mb.toFixed(mb < 10 ? 2 : mb < 10000 ? 1 : 0)} MB/s`;
}

/**
 * Seconds as a clock: `"0:05"`, `"12:34"`, `"1:02:03"`; `"--:--"` when unknown (NaN, ∞, negative).
 * @example formatEta(75) // "1:15"
 */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** How far along a copy is, 0 … 1: by bytes, or by files when every file is empty. */
export function progressFraction(p: CopyProgress): number {
  const f = p.totalBytes > 0 ? p.bytes / p.totalBytes : p.totalFiles > 0 ? p.files / p.totalFiles : 0;
  return Number.isFinite(f) ? Math.min(1, Math.max(0, f)) : 0;
}

/** Seconds left at the average rate so far, or NaN while the totals are still growing or nothing moved yet. */
export function progressEta(p: CopyProgress): number {
  if (p.scanning || p.seconds <= 0 || p.bytes <= 0) return Number.NaN;
  return Math.max(0, p.totalBytes - p.bytes) / (p.bytes / p.seconds);
}

const BAR_MIN = 10;
const BAR_MAX = 30;
const FILL = "█";
const EMPTY = "░";

/**
 * One line describing a copy in progress, never longer than `width` characters:
 * `[████████░░░░░░]  57%  146.0 MiB / 256.0 MiB  3/5 files  512.3 MB/s  ETA 0:01`.
 * While the walk is still finding files (`scanning`), totals carry a `+` and the ETA is `--:--`.
 * On a narrow line the bar goes first, then the file count, the rate and the ETA.
 * Pure: the same progress and width always give the same string.
 * @example renderProgress({ bytes: 0, totalBytes: 0, files: 0, totalFiles: 0, dirs: 0, scanning: true, seconds: 0 }, 80)
 */
export function renderProgress(p: CopyProgress, width: number): string {
  width = Math.max(0, Math.floor(Number.isFinite(width) ? width : 0));
  const more = p.scanning ? "+" : "";
  const bytes = `${formatBytes(p.bytes)} / ${formatBytes(p.totalBytes)}${more}`;
  const files = `${p.files}/${p.totalFiles}${more} file${p.totalFiles === 1 && !more ? "" : "s"}`;
  const rate = formatRate(p.seconds > 0 ? p.bytes / p.seconds : Number.NaN);
  const eta = `ETA ${formatEta(progressEta(p))}`;
  const fraction = progressFraction(p);
  const pct = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  // most important first: what is dropped when the line is narrow comes from the end
  const parts = [bytes, eta, rate, files];
  const order = [0, 3, 2, 1]; // display order: bytes, files, rate, ETA
  for (let keep = parts.length; keep > 0; keep--) {
    const text = order
      .filter((i) => i < keep)
      .map((i) => parts[i])
      .join("  ");
    const room = width - text.length - `[] ${pct}  `.length;
    if (room >= BAR_MIN) {
      const w = Math.min(BAR_MAX, room);
      const filled = Math.round(fraction * w);
      return `[${FILL.repeat(filled)}${EMPTY.repeat(w - filled)}] ${pct}  ${text}`;
    }
    if (text.length <= width) return text;
  }
  // narrower than "1.2 MiB / 3.4 GiB": what has been copied, then as much of it as fits
  const done = formatBytes(p.bytes);
  return done.length <= width ? done : done.slice(0, width);
}

/** Where ProgressLine writes and how it reads the clock and the terminal width (injectable for tests). */
export interface ProgressLineOptions {
  /** Write raw text to the terminal. Default: synchronous writes to fd 2 (stderr). */
  write?: (text: string) => void;
  /** The terminal width. Default: `process.stderr.columns`, else 80. */
  columns?: () => number;
  /** Minimum time between redraws, ms. Default 100 (10 redraws a second). */
  intervalMs?: number;
  /** Milliseconds on a monotonic clock. Default `performance.now()`. */
  now?: () => number;
}

/**
 * A one-line progress display on a terminal: each `update()` redraws the line in place
 * (`\r` … `ESC[K`), at most once per `intervalMs`; `clear()` erases it. Messages printed while
 * a line is drawn go through `log()`, which erases the line first so text never lands in the bar.
 * Create one only when stderr is a terminal (or progress is forced): it always draws.
 */
export class ProgressLine {
  readonly #write: (text: string) => void;
  readonly #columns: () => number;
  readonly #interval: number;
  readonly #now: () => number;
  #last = Number.NEGATIVE_INFINITY;
  #drawn = false;
  /** Redraws so far (for tests and the curious). */
  draws = 0;

  constructor(options: ProgressLineOptions = {}) {
    this.#write = options.write ?? ((s) => void writeSync(2, s));
    this.#columns = options.columns ?? (() => process.stderr.columns || 80);
    this.#interval = options.intervalMs ?? 100;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Redraw with `p`, unless the last redraw was less than `intervalMs` ago (`force` skips that check). */
  update(p: CopyProgress, force = false): void {
    const now = this.#now();
    if (!force && now - this.#last < this.#interval) return;
    this.#last = now;
    // one column short of the width: writing the last column makes some terminals wrap
    this.#write(`\r${renderProgress(p, this.#columns() - 1)}\x1b[K`);
    this.#drawn = true;
    this.draws++;
  }

  /** Erase the line (if one is drawn) and leave the cursor at its start. */
  clear(): void {
    if (!this.#drawn) return;
    this.#write("\r\x1b[K");
    this.#drawn = false;
  }

  /** Print a whole line of text (a warning, an error) above the progress line. */
  log(text: string): void {
    this.clear();
    this.#write(text.endsWith("\n") ? text : `${text}\n`);
  }
}
