/**
 * Where the CLI writes and what it reads from its surroundings. `main` takes one, so tests run
 * commands in-process and read what they printed; the launcher passes the real process.
 */
export interface Io {
  /** One line (or block) on stdout: results only, so `--json` output stays one document. */
  out: (text: string) => void;
  /** One line (or block) on stderr: progress, warnings and errors. */
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Waits between polls; tests pass a shorter one. */
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => new Date(),
  };
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** 0.13 → `0.13s`, 75 → `1m15s`, 3725 → `1h02m`. */
export function duration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(2)}s`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
