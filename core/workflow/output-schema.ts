import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * `output_schema` of an llm action: a JSON Schema (2020-12) its answer must validate against. Checked twice:
 * when the workflow is saved (the schema itself must be one ajv can compile, so a typo is a 400 naming the
 * field rather than a run that can never pass), and when an answer comes back (the action runner in AWS, the
 * local engine on one machine; core/execution/llm-check.ts).
 *
 * `strictSchema` refuses unknown keywords (`require` for `required` would otherwise check nothing);
 * `format` is an annotation only (no format plugin is shipped); ajv's own warnings are never printed.
 */
let shared: Ajv2020 | undefined;
/** Made on first use: building it compiles the meta-schemas, which a function that never meets an output_schema need not pay for at cold start. */
function ajvInstance(): Ajv2020 {
  return (shared ??= new Ajv2020({ allErrors: true, strictSchema: true, strictTypes: false, strictTuples: false, strictRequired: false, allowUnionTypes: true, validateFormats: false, logger: false }));
}

/** One way an answer missed its schema: where in the answer (a JSON pointer, `` for the whole), and why. */
export type OutputSchemaError = Pick<ErrorObject, 'instancePath' | 'schemaPath' | 'keyword' | 'params' | 'message'>;

/** Compiled validators by schema text: a run checks the same few schemas again and again. */
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 200;

/** Compiles `schema`, or throws with ajv's reason. The schema is not kept by ajv (its `$id` may come again). */
function compile(schema: Readonly<Record<string, unknown>>): ValidateFunction {
  const key = JSON.stringify(schema);
  const known = compiled.get(key);
  if (known) return known;
  // A copy: ajv annotates nothing, but it keys its cache on the object, which is the caller's.
  const copy = structuredClone(schema) as Record<string, unknown>;
  const ajv = ajvInstance();
  try {
    const validate = ajv.compile(copy);
    compiled.set(key, validate);
    if (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
    return validate;
  } finally {
    ajv.removeSchema(copy);
  }
}

/**
 * What is wrong with `schema` as a JSON Schema, one message per problem (empty when ajv compiles it): a
 * keyword of the wrong type (`"type": 5`), an unknown keyword, a `$ref` that resolves to nothing, a `$schema`
 * other than 2020-12.
 */
export function outputSchemaProblems(schema: Readonly<Record<string, unknown>>): string[] {
  const declared = schema['$schema'];
  if (declared !== undefined && declared !== 'https://json-schema.org/draft/2020-12/schema') {
    return [`$schema must be https://json-schema.org/draft/2020-12/schema (or left out); ${JSON.stringify(declared)} is not supported`];
  }
  const copy = structuredClone(schema) as Record<string, unknown>;
  const ajv = ajvInstance();
  if (!ajv.validateSchema(copy)) {
    // The meta-schema reports a bad keyword once per branch it tried (`type`: an enum, an array, their anyOf):
    // the first says it best, with the values it allows.
    const byPath = new Map<string, ErrorObject>();
    for (const error of ajv.errors ?? []) if (!byPath.has(error.instancePath)) byPath.set(error.instancePath, error);
    return [...byPath.values()].map((error) => {
      const allowed = (error.params as { allowedValues?: unknown }).allowedValues;
      return `output_schema${error.instancePath} ${error.message ?? 'is invalid'}${Array.isArray(allowed) ? ` (${allowed.map(String).join(', ')})` : ''}`;
    });
  }
  try {
    compile(schema);
    return [];
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
}

/** The errors of `value` against `schema` (empty: it validates). `schema` must have passed outputSchemaProblems. */
export function outputSchemaErrors(schema: Readonly<Record<string, unknown>>, value: unknown): OutputSchemaError[] {
  const validate = compile(schema);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(({ instancePath, schemaPath, keyword, params, message }) => ({ instancePath, schemaPath, keyword, params, ...(message === undefined ? {} : { message }) }));
}
