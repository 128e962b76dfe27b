/** Small numeric and text helpers shared by the benchmark sections. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function kilobytes(bytes: number): number {
  return round(bytes / 1024, 1);
}

/** `ok` / `OVER` against a target, so a reader scanning the report sees misses without reading numbers. */
export function verdict(withinTarget: boolean): string {
  return withinTarget ? 'ok' : 'OVER';
}

export type Cell = string | number;

/** A plain-text table with left-aligned text and right-aligned numbers. */
export function table(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => String(row[column] ?? '').length)));
  const line = (cells: readonly Cell[]) =>
    cells
      .map((cell, column) => {
        const text = String(cell);
        const width = widths[column] ?? text.length;
        return typeof cell === 'number' ? text.padStart(width) : text.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** Milliseconds since `start` (a `performance.now()` reading). */
export function since(start: number): number {
  return performance.now() - start;
}
