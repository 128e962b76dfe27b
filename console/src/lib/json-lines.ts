/**
 * JSON laid out exactly as `JSON.stringify(value, null, 2)` does, with the line each value starts on, by the
 * field path the API's validation names (`actions[2].config.method`): a 400's details point at lines.
 */
export function prettyWithPaths(value: unknown): { readonly text: string; readonly lines: ReadonlyMap<string, number> } {
  const out: string[] = [];
  const lines = new Map<string, number>();
  const write = (node: unknown, path: string, indent: string, prefix: string, suffix: string) => {
    lines.set(path, out.length + 1);
    const children: [string, unknown, string][] = Array.isArray(node)
      ? node.map((item, index) => [`${path}[${index}]`, item, ''])
      : typeof node === 'object' && node !== null
        ? Object.entries(node)
            .filter(([, item]) => item !== undefined)
            .map(([key, item]) => [path === '' ? key : `${path}.${key}`, item, `${JSON.stringify(key)}: `])
        : [];
    if (typeof node !== 'object' || node === null) {
      out.push(`${indent}${prefix}${JSON.stringify(node) ?? 'null'}${suffix}`);
      return;
    }
    const [open, close] = Array.isArray(node) ? ['[', ']'] : ['{', '}'];
    if (children.length === 0) {
      out.push(`${indent}${prefix}${open}${close}${suffix}`);
      return;
    }
    out.push(`${indent}${prefix}${open}`);
    children.forEach(([childPath, child, childPrefix], index) => write(child, childPath, `${indent}  `, childPrefix, index < children.length - 1 ? ',' : ''));
    out.push(`${indent}${close}${suffix}`);
  };
  write(value, '', '', '', '');
  return { text: out.join('\n'), lines };
}

/** The line of `field`, or of its nearest ancestor that is there (a missing key points at its object). */
export function lineOf(lines: ReadonlyMap<string, number>, field: string): number {
  let path = field.replace(/^body\.?/, '');
  for (;;) {
    const line = lines.get(path);
    if (line !== undefined) return line;
    const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    if (cut <= 0) return lines.get('') ?? 1;
    path = path.slice(0, cut);
  }
}

/** Where a JSON.parse error happened, as a line and column, from the engine's message when it says. */
export function syntaxErrorPosition(text: string, error: unknown): { line: number; column: number } | undefined {
  const message = error instanceof Error ? error.message : '';
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const position = /position (\d+)/.exec(message);
  if (!position) return undefined;
  const before = text.slice(0, Number(position[1])).split('\n');
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}
