import { scrubText, isCredentialName, withoutCredentials } from './credentials.ts';
import { referencesIn, resolvePointer } from '../registry/json-pointer.ts';
import type { JsonSchema } from './workflow-tools.ts';

/**
 * OpenAPI schemas (3.0, 3.1, Swagger 2.0) as JSON Schema draft 2020-12, the dialect of tools' input schemas.
 *
 * A tool's schema must stand alone: an agent never sees the service's document. So local `$ref`s are resolved:
 * inlined where that terminates, and kept as references into the tool's own `$defs` where it would not (a schema
 * that reaches itself, a tree node, a comment and its replies), or where inlining a shared schema again and again
 * would make the tool too large (past MAX_INLINE_NODES). Each `$defs` entry is converted the same way, once.
 *
 * Only JSON Schema keywords are kept (an agent's validator may refuse unknown ones): OpenAPI's own (`nullable`,
 * `discriminator`, `xml`, `x-*`) become 2020-12 or go; `example(s)` go because they are where documents show
 * real-looking tokens; defaults of credential fields, and credential-shaped values anywhere, go too.
 */

export type ApiDialect = 'openapi_3_0' | 'openapi_3_1' | 'swagger_2_0';
export type SchemaValue = JsonSchema | boolean;
type JsonObject = Record<string, unknown>;

/** Schema nodes one tool inlines before further references go to its `$defs`. */
export const MAX_INLINE_NODES = 4000;
const MAX_TEXT = 4000;
const TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer']);
const SCHEMA_KEYWORDS = ['additionalProperties', 'propertyNames', 'not', 'if', 'then', 'else', 'contains', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema'] as const;
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const;
const COUNTS = ['maxLength', 'minLength', 'maxItems', 'minItems', 'maxProperties', 'minProperties', 'maxContains', 'minContains'] as const;
const FLAGS = ['uniqueItems', 'readOnly', 'writeOnly', 'deprecated'] as const;

export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What every tool of one document shares: its references resolved, and which of them are recursive. */
export class ApiDocumentIndex {
  readonly document: JsonObject;
  readonly dialect: ApiDialect;
  private readonly targets = new Map<string, { value: unknown } | undefined>();
  private readonly recursion = new Map<string, boolean>();
  private readonly edges = new Map<string, string[]>();

  constructor(document: JsonObject, dialect: ApiDialect) {
    this.document = document;
    this.dialect = dialect;
  }

  /** The value a local reference (`#/components/schemas/Pet`) points at; undefined when it leads nowhere. */
  resolve(reference: string): unknown {
    if (!this.targets.has(reference)) {
      const value = resolvePointer(this.document, reference);
      this.targets.set(reference, value === undefined ? undefined : { value });
    }
    return this.targets.get(reference)?.value;
  }

  /** `value`, or what its `$ref` chain leads to (a parameter, a request body): undefined when it leads nowhere. */
  dereference(value: unknown): unknown {
    let current = value;
    for (let hops = 0; isObject(current) && typeof current['$ref'] === 'string'; hops++) {
      if (hops >= 32 || !current['$ref'].startsWith('#')) return undefined;
      current = this.resolve(current['$ref']);
    }
    return current;
  }

  /** Whether the reference's target reaches the reference again: inlining it would never end. */
  isRecursive(reference: string): boolean {
    let known = this.recursion.get(reference);
    if (known === undefined) {
      known = false;
      const seen = new Set<string>();
      const queue = [...this.referencesFrom(reference)];
      while (queue.length > 0) {
        const next = queue.pop()!;
        if (next === reference) {
          known = true;
          break;
        }
        if (seen.has(next)) continue;
        seen.add(next);
        queue.push(...this.referencesFrom(next));
      }
      this.recursion.set(reference, known);
    }
    return known;
  }

  /** The references the target of `reference` holds, found once. */
  private referencesFrom(reference: string): readonly string[] {
    let found = this.edges.get(reference);
    if (found === undefined) {
      found = referencesIn(this.resolve(reference));
      this.edges.set(reference, found);
    }
    return found;
  }
}

/** Converts the schemas of one tool: call `schema` for each part, then `definitions` for the `$defs` they need. */
export class ToolSchemaBuilder {
  private readonly index: ApiDocumentIndex;
  private readonly defined = new Map<string, string>();
  private readonly defs: Record<string, SchemaValue> = {};
  private nodes = 0;

  constructor(index: ApiDocumentIndex) {
    this.index = index;
  }

  /** `raw` (an OpenAPI schema) as JSON Schema 2020-12. `property` names the field it describes, when it does. */
  schema(raw: unknown, property?: string): SchemaValue {
    if (typeof raw === 'boolean') return raw;
    if (!isObject(raw)) return {};
    this.nodes++;
    const reference = raw['$ref'];
    if (typeof reference !== 'string') return this.keywords(raw, property);
    const target = this.reference(reference, property);
    // Beside a `$ref`, 3.1 (JSON Schema) applies the other keywords too; 3.0 and Swagger ignore them.
    if (this.index.dialect !== 'openapi_3_1') return target;
    const siblings = this.keywords(Object.fromEntries(Object.entries(raw).filter(([key]) => key !== '$ref')), property);
    if (Object.keys(siblings).length === 0) return target;
    if (typeof target === 'boolean') return target ? siblings : false;
    return Object.keys(siblings).some((key) => key in target) ? { ...siblings, allOf: [target] } : { ...target, ...siblings };
  }

  /** The `$defs` the converted schemas refer to, or undefined when they need none. */
  definitions(): Record<string, SchemaValue> | undefined {
    return Object.keys(this.defs).length === 0 ? undefined : { ...this.defs };
  }

  private reference(reference: string, property: string | undefined): SchemaValue {
    if (!reference.startsWith('#')) return { description: scrubText(`Described by ${reference}, outside the service's document (not read)`) };
    const target = this.index.resolve(reference);
    if (target === undefined) return { description: scrubText(`Described by ${reference}, which the service's document does not define`) };
    if (this.index.isRecursive(reference) || this.nodes > MAX_INLINE_NODES) return { $ref: `#/$defs/${this.define(reference, target)}` };
    return this.schema(target, property);
  }

  private define(reference: string, target: unknown): string {
    const known = this.defined.get(reference);
    if (known !== undefined) return known;
    const base = (reference.split('/').pop() ?? '').replace(/~1/g, '/').replace(/~0/g, '~').replace(/[^A-Za-z0-9_.-]+/g, '_') || 'schema';
    let name = base;
    for (let extra = 2; name in this.defs; extra++) name = `${base}_${extra}`;
    // Named before it is converted, so that the schema's references to itself find it.
    this.defined.set(reference, name);
    this.defs[name] = true;
    this.defs[name] = this.schema(target);
    return name;
  }

  private keywords(raw: JsonObject, property: string | undefined): JsonSchema {
    const legacy = this.index.dialect !== 'openapi_3_1';
    const out: JsonObject = {};
    const schemas = (value: unknown) => (Array.isArray(value) && value.length > 0 ? value.map((item) => this.schema(item)) : undefined);
    const map = (value: unknown, keep: (key: string) => boolean = () => true) =>
      isObject(value) ? Object.fromEntries(Object.entries(value).filter(([key]) => keep(key)).map(([key, item]) => [key, this.schema(item, key)])) : undefined;

    const type = typeOf(raw['type']);
    if (type !== undefined) out['type'] = type;
    if (raw['type'] === 'file' && raw['format'] === undefined) out['format'] = 'binary';
    if (raw['items'] !== undefined) {
      if (Array.isArray(raw['items'])) {
        // A tuple, in the older drafts' form.
        out['prefixItems'] = schemas(raw['items']);
        if (raw['additionalItems'] !== undefined) out['items'] = this.schema(raw['additionalItems']);
      } else out['items'] = this.schema(raw['items']);
    }
    if (isObject(raw['properties'])) {
      const readOnly = Object.keys(raw['properties']).filter((key) => this.isReadOnly((raw['properties'] as JsonObject)[key]));
      // Read-only fields are the service's to set: a request never carries them.
      out['properties'] = map(raw['properties'], (key) => !readOnly.includes(key));
      const required = strings(raw['required'])?.filter((key) => !readOnly.includes(key));
      if (required !== undefined && required.length > 0) out['required'] = required;
    } else {
      const required = strings(raw['required']);
      if (required !== undefined && required.length > 0) out['required'] = required;
    }
    const patterns = map(raw['patternProperties'], (key) => compiles(key));
    if (patterns !== undefined) out['patternProperties'] = patterns;
    for (const keyword of SCHEMA_KEYWORDS) if (raw[keyword] !== undefined) out[keyword] = this.schema(raw[keyword]);
    for (const keyword of SCHEMA_LISTS) {
      const list = schemas(raw[keyword]);
      if (list !== undefined) out[keyword] = list;
    }
    const dependentSchemas = map(raw['dependentSchemas']);
    if (dependentSchemas !== undefined) out['dependentSchemas'] = dependentSchemas;
    this.dependencies(raw, out);

    for (const keyword of ['title', 'description'] as const) if (typeof raw[keyword] === 'string') out[keyword] = scrubText(raw[keyword].slice(0, MAX_TEXT));
    for (const keyword of ['format', 'contentEncoding', 'contentMediaType'] as const) if (typeof raw[keyword] === 'string') out[keyword] = raw[keyword];
    if (typeof raw['pattern'] === 'string' && compiles(raw['pattern'])) out['pattern'] = raw['pattern'];
    if (typeof raw['multipleOf'] === 'number' && raw['multipleOf'] > 0) out['multipleOf'] = raw['multipleOf'];
    for (const keyword of ['minimum', 'maximum'] as const) if (typeof raw[keyword] === 'number') out[keyword] = raw[keyword];
    for (const [exclusive, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
      const value = raw[exclusive];
      if (typeof value === 'number') out[exclusive] = value;
      // 3.0 and Swagger: a flag on the bound beside it.
      else if (value === true && legacy && typeof raw[bound] === 'number') {
        out[exclusive] = raw[bound];
        delete out[bound];
      }
    }
    for (const keyword of COUNTS) if (Number.isInteger(raw[keyword]) && (raw[keyword] as number) >= 0) out[keyword] = raw[keyword];
    for (const keyword of FLAGS) if (typeof raw[keyword] === 'boolean') out[keyword] = raw[keyword];

    // Values: none of a credential field's, and no credential-shaped ones anywhere.
    const secret = property !== undefined && isCredentialName(property);
    if (Array.isArray(raw['enum']) && raw['enum'].length > 0 && !secret) {
      const values = raw['enum'].map((value) => withoutCredentials(value)).filter((value) => value !== undefined);
      if (values.length > 0) out['enum'] = values;
    }
    for (const keyword of ['const', 'default'] as const) {
      const value = secret ? undefined : withoutCredentials(raw[keyword]);
      if (value !== undefined) out[keyword] = value;
    }
    // 3.0's `nullable` (Swagger's `x-nullable`): null is one more type, and one more allowed value.
    if (raw['nullable'] === true || raw['x-nullable'] === true) {
      if (typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
      else if (Array.isArray(out['type']) && !out['type'].includes('null')) out['type'] = [...out['type'], 'null'];
      // `nullable: true` beside `allOf: [{$ref}]` (what 3.0 documents write for a nullable reference): the schema, or null.
      else if (out['type'] === undefined && ['allOf', 'anyOf', 'oneOf'].some((keyword) => keyword in out)) return { anyOf: [out, { type: 'null' }] };
      if (Array.isArray(out['enum']) && !out['enum'].includes(null)) out['enum'] = [...out['enum'], null];
    }
    return out;
  }

  /** Draft 7's `dependencies`: lists of names became `dependentRequired`, schemas `dependentSchemas`. */
  private dependencies(raw: JsonObject, out: JsonObject): void {
    const required: Record<string, string[]> = {};
    for (const source of [raw['dependentRequired'], raw['dependencies']]) {
      if (!isObject(source)) continue;
      for (const [key, value] of Object.entries(source)) {
        const names = strings(value);
        if (names !== undefined) required[key] = names;
        else if (source === raw['dependencies'] && (isObject(value) || typeof value === 'boolean')) {
          out['dependentSchemas'] = { ...(out['dependentSchemas'] as JsonObject | undefined), [key]: this.schema(value) };
        }
      }
    }
    if (Object.keys(required).length > 0) out['dependentRequired'] = required;
  }

  private isReadOnly(value: unknown): boolean {
    if (!isObject(value)) return false;
    if (value['readOnly'] === true) return true;
    const target = typeof value['$ref'] === 'string' && value['$ref'].startsWith('#') ? this.index.resolve(value['$ref']) : undefined;
    return isObject(target) && target['readOnly'] === true;
  }
}

/** `type`, with Swagger's `file` as a string; unknown types dropped (they would make the schema invalid). */
function typeOf(value: unknown): string | string[] | undefined {
  const one = (type: unknown) => (type === 'file' ? 'string' : typeof type === 'string' && TYPES.has(type) ? type : undefined);
  if (!Array.isArray(value)) return one(value);
  const types = [...new Set(value.map(one).filter((type) => type !== undefined))];
  return types.length === 0 ? undefined : types;
}

/** The distinct strings of a list, or undefined when it is not one. */
function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? [...new Set(value.filter((item): item is string => typeof item === 'string'))] : undefined;
}

/** Whether a pattern compiles as validators compile it (`u` flag): a pattern that does not would break the tool. */
function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

