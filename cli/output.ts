export const OUTPUT_FORMATS = ['table', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Cell = string | number | boolean | null | undefined;

export interface Output {
  readonly format: OutputFormat;
  /** `data` as JSON on stdout: what scripts read, exactly as the API answered it. */
  json(data: unknown): void;
  /** Aligned columns on stdout, for people: a header row, then one row per item. */
  table(headers: readonly string[], rows: readonly (readonly Cell[])[]): void;
  /** `label: value` lines on stdout, the labels aligned. */
  fields(entries: readonly (readonly [string, Cell])[]): void;
  /** A line on stdout. */
  line(text?: string): void;
  /** A line on stderr: what people should see but scripts should not parse. */
  note(text: string): void;
}

export function createOutput(format: OutputFormat, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  const line = (text = '') => void stdout.write(`${text}\n`);
  return {
    format,
    json: (data) => line(JSON.stringify(data, null, 2)),
    table: (headers, rows) => {
      for (const row of formatTable(headers, rows)) line(row);
    },
    fields: (entries) => {
      const width = Math.max(0, ...entries.map(([label]) => label.length));
      for (const [label, value] of entries) line(`${`${label}:`.padEnd(width + 2)}${cellText(value)}`);
    },
    line,
    note: (text) => void stderr.write(`${text}\n`),
  };
}

export function cellText(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value).replace(/\s*\n\s*/g, ' ');
}

/** Rows padded so columns line up; the last column is not padded, so lines carry no trailing spaces. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string[] {
  const texts = [headers.map((header) => header.toUpperCase()), ...rows.map((row) => headers.map((_, index) => cellText(row[index])))];
  const widths = headers.map((_, index) => Math.max(...texts.map((row) => displayWidth(row[index] ?? ''))));
  return texts.map((row) =>
    row
      .map((text, index) => (index === row.length - 1 ? text : text + ' '.repeat(widths[index]! - displayWidth(text))))
      .join('  ')
      .trimEnd(),
  );
}

/** Columns a string takes in a terminal: code points, not UTF-16 units (ANSI colours are never in cells). */
function displayWidth(text: string): number {
  return [...text].length;
}

/** `2026-11-24T10:00:00.000Z` -> `2026-11-24 10:00:00`: the table's compact form of a timestamp. */
export function shortTime(iso: string | undefined): string | undefined {
  if (iso === undefined) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]}` : iso;
}

/** 0.25 s, 12.3 s, 4m05s, 1h02m: elapsed times at a glance. */
export function formatDuration(milliseconds: number): string {
  const ms = Math.max(0, milliseconds);
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}
