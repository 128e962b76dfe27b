import type { Json, JsonObject } from './harness.ts';

/**
 * A small, strict evaluator of ASL payload templates and the intrinsic functions the compiler emits
 * (States.Format, States.JsonToString, States.StringToJson), written from the Amazon States Language spec:
 * string literals are single-quoted and escape `'`, `{`, `}` and `\` with a backslash; in States.Format an
 * unescaped `{}` is a placeholder. aws-local-stepfunctions drops every backslash from intrinsic results and
 * asl-validator refuses an escaped backslash, so neither can check the compiler's escaping of such text;
 * this can.
 */

type Literal = { readonly kind: 'literal'; readonly text: string; readonly placeholders: readonly number[] };
type Arg = Literal | { readonly kind: 'path'; readonly path: string } | { readonly kind: 'call'; readonly name: string; readonly args: readonly Arg[] } | { readonly kind: 'json'; readonly value: Json };

class Parser {
  private at = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  parseCall(): Arg {
    const match = /^States\.[A-Za-z]+/.exec(this.text.slice(this.at));
    if (!match) throw new Error(`expected an intrinsic function at ${this.at} in ${this.text}`);
    this.at += match[0].length;
    this.expect('(');
    const args: Arg[] = [];
    this.spaces();
    if (this.peek() !== ')') {
      for (;;) {
        this.spaces();
        args.push(this.parseArg());
        this.spaces();
        if (this.peek() === ',') {
          this.at++;
          continue;
        }
        break;
      }
    }
    this.expect(')');
    return { kind: 'call', name: match[0], args };
  }

  done(): void {
    if (this.at !== this.text.length) throw new Error(`trailing text at ${this.at} in ${this.text}`);
  }

  private parseArg(): Arg {
    const next = this.peek();
    if (next === "'") return this.parseLiteral();
    if (next === '$') return { kind: 'path', path: this.parsePath() };
    if (this.text.startsWith('States.', this.at)) return this.parseCall();
    const match = /^(?:-?\d+(?:\.\d+)?|true|false|null)/.exec(this.text.slice(this.at));
    if (!match) throw new Error(`unexpected argument at ${this.at} in ${this.text}`);
    this.at += match[0].length;
    return { kind: 'json', value: JSON.parse(match[0]) as Json };
  }

  private parseLiteral(): Literal {
    this.expect("'");
    let text = '';
    const placeholders: number[] = [];
    for (;;) {
      const char = this.text[this.at++];
      if (char === undefined) throw new Error(`unterminated string literal in ${this.text}`);
      if (char === "'") break;
      if (char === '\\') {
        const escaped = this.text[this.at++];
        if (escaped === undefined || !"'{}\\".includes(escaped)) throw new Error(`invalid escape \\${escaped} in ${this.text}`);
        text += escaped;
        continue;
      }
      if (char === '{') {
        if (this.text[this.at] !== '}') throw new Error(`unescaped { in a string literal of ${this.text}`);
        this.at++;
        placeholders.push(text.length);
        continue;
      }
      if (char === '}') throw new Error(`unescaped } in a string literal of ${this.text}`);
      text += char;
    }
    return { kind: 'literal', text, placeholders };
  }

  private parsePath(): string {
    const start = this.at;
    let depth = 0;
    let quoted = false;
    while (this.at < this.text.length) {
      const char = this.text[this.at]!;
      if (quoted) {
        if (char === "'") quoted = false;
      } else if (char === "'") quoted = true;
      else if (char === '[') depth++;
      else if (char === ']') depth--;
      else if ((char === ',' || char === ')') && depth === 0) break;
      this.at++;
    }
    return this.text.slice(start, this.at).trim();
  }

  private peek(): string | undefined {
    return this.text[this.at];
  }

  private spaces(): void {
    while (this.text[this.at] === ' ') this.at++;
  }

  private expect(char: string): void {
    if (this.text[this.at] !== char) throw new Error(`expected ${char} at ${this.at} in ${this.text}`);
    this.at++;
  }
}

/** `$.a.b[0]['c-d']` or `$$.Execution.Name`, read from `data` or `context`. */
export function readPath(path: string, data: Json, context: JsonObject): Json {
  let value: Json = path.startsWith('$$') ? context : data;
  const rest = path.startsWith('$$') ? path.slice(2) : path.slice(1);
  const segments = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]/g;
  let consumed = 0;
  for (const match of rest.matchAll(segments)) {
    if (match.index !== consumed) throw new Error(`unsupported path ${path}`);
    consumed += match[0].length;
    const key: string | number = match[2] !== undefined ? Number(match[2]) : (match[1] ?? match[3])!;
    if (value === null || typeof value !== 'object') throw new Error(`${path}: nothing at ${String(key)}`);
    const next: Json | undefined = Array.isArray(value) ? value[key as number] : (value as JsonObject)[String(key)];
    if (next === undefined) throw new Error(`${path}: nothing at ${String(key)}`);
    value = next;
  }
  if (consumed !== rest.length) throw new Error(`unsupported path ${path}`);
  return value;
}

function evaluateArg(arg: Arg, data: Json, context: JsonObject): Json {
  switch (arg.kind) {
    case 'literal':
      return arg.text;
    case 'json':
      return arg.value;
    case 'path':
      return readPath(arg.path, data, context);
    case 'call': {
      switch (arg.name) {
        case 'States.Format': {
          const [template, ...rest] = arg.args;
          if (template?.kind !== 'literal') throw new Error('States.Format needs a literal template');
          const values = rest.map((value) => evaluateArg(value, data, context));
          if (values.length !== template.placeholders.length) throw new Error(`States.Format: ${template.placeholders.length} placeholders, ${values.length} arguments`);
          let text = '';
          let from = 0;
          template.placeholders.forEach((at, i) => {
            const value = values[i]!;
            if (value !== null && typeof value === 'object') throw new Error('States.Format takes strings, numbers, booleans and null');
            text += template.text.slice(from, at) + String(value);
            from = at;
          });
          return text + template.text.slice(from);
        }
        case 'States.JsonToString':
          return JSON.stringify(evaluateArg(arg.args[0]!, data, context));
        case 'States.StringToJson': {
          const text = evaluateArg(arg.args[0]!, data, context);
          if (typeof text !== 'string') throw new Error('States.StringToJson takes a string');
          return JSON.parse(text) as Json;
        }
      }
      throw new Error(`unsupported intrinsic ${arg.name}`);
    }
  }
}

export function evaluateIntrinsic(text: string, data: Json, context: JsonObject): Json {
  const parser = new Parser(text);
  const call = parser.parseCall();
  parser.done();
  return evaluateArg(call, data, context);
}

/** A payload template (Parameters, ResultSelector) applied to `data`: `key.$` fields are paths or intrinsics. */
export function applyPayloadTemplate(template: Json, data: Json, context: JsonObject): Json {
  if (template === null || typeof template !== 'object' || Array.isArray(template)) return template;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      if (typeof value !== 'string') throw new Error(`${key} must be a string`);
      out[key.slice(0, -2)] = value.startsWith('States.') ? evaluateIntrinsic(value, data, context) : readPath(value, data, context);
    } else {
      out[key] = applyPayloadTemplate(value, data, context);
    }
  }
  return out;
}
