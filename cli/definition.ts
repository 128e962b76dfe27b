import { forbiddenKeyIssues } from '../functions/middleware/forbidden-keys.ts';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_TENANT } from '../core/auth/model.ts';
import { DomainError, ValidationError, type FieldIssue } from '../core/errors.ts';
import { WorkflowDefinitionSchema, type WorkflowDefinition } from '../core/workflow/definition.ts';
import { assertValidDefinition, MAX_DEFINITION_BYTES, utf8Length, zodIssues } from '../core/workflow/validate.ts';
import { ERROR_STATUS, INTERNAL_ERROR } from '../functions/middleware/envelope.ts';
import { compilerCheck, compileWorkflow, type CompileInput, type CompiledWorkflow } from '../statemachines/compile.ts';
import { InvalidDefinitionError, UsageError } from './errors.ts';

/**
 * Offline checks of a workflow definition file, reaching the verdict `POST /workflows` would: the same steps in
 * the same order, with the same functions, so each problem has the same field path and message. The API's
 * steps: the body limit (functions/middleware/http-handler.ts), the body schema (WorkflowDefinitionSchema with
 * zodIssues), then the workflow service's assertValidDefinition (core/workflow/service.ts insert) and the
 * compiler's limit check (compilerCheck, given to the service as its WorkflowCompilerCheck).
 */

/**
 * The API names a new workflow with a random UUID, and the compiled machine's Comment carries it: an id of the
 * same length keeps the compiled size, which the limit check measures, what the API would measure.
 */
const OFFLINE_WORKFLOW_ID = '00000000-0000-4000-8000-000000000000';

/** A definition file as the API would receive it: JSON for .json, YAML (which JSON is a subset of) otherwise. */
export async function readDefinitionFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error)}`);
  }
  if (extname(file).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new InvalidDefinitionError(`${file} is not valid JSON`, 'MALFORMED_JSON', 400, [{ field: '(file)', message: detail }]);
    }
  }
  try {
    return parseYaml(text, { prettyErrors: true }) as unknown;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw new InvalidDefinitionError(`${file} is not valid YAML`, 'MALFORMED_JSON', 400, [{ field: '(file)', message: detail }]);
  }
}

export interface CheckedDefinition {
  /** The definition with the API's defaults filled in, as the API would store it. */
  readonly definition: WorkflowDefinition;
  /** What the compiler reports beyond errors (sizes near Step Functions' limits). */
  readonly warnings: readonly string[];
}

/** The API's verdict on creating `document`: the parsed definition, or InvalidDefinitionError with every problem. */
export async function checkDefinition(document: unknown): Promise<CheckedDefinition> {
  await checkBodySize(document);
  checkForbiddenKeys(document);
  const parsed = WorkflowDefinitionSchema.safeParse(document);
  if (!parsed.success) throw refusal(new ValidationError(zodIssues(parsed.error, '')));
  try {
    assertValidDefinition(parsed.data);
  } catch (error) {
    throw refusal(error);
  }
  const { errors, warnings } = compilerCheck.check(compileInput(parsed.data));
  if (errors.length > 0) throw refusal(new ValidationError(errors));
  return { definition: parsed.data, warnings };
}

/** The state machine the API would compile for version 1 of `definition`. */
export function compileDefinition(definition: WorkflowDefinition): CompiledWorkflow {
  return compileWorkflow(compileInput(definition));
}

/** A compiled workflow as JSON: the ASL, its child machines, the structure, the gates and the limits. */
export function compiledAsJson(compiled: CompiledWorkflow): Record<string, unknown> {
  return {
    execution_mode: compiled.executionMode,
    definition: compiled.definition,
    children: compiled.children,
    structure: compiled.structure,
    gates: Object.fromEntries(compiled.gates),
    gated_calls: [...compiled.gatedCalls],
    placeholders: compiled.placeholders,
    limits: {
      machines: compiled.limits.machines,
      definition_bytes: compiled.limits.definitionBytes,
      states: compiled.limits.states,
      estimated_history_events: compiled.limits.estimatedHistoryEvents,
      errors: compiled.limits.errors,
      warnings: compiled.limits.warnings,
    },
  };
}

function compileInput(definition: WorkflowDefinition): CompileInput {
  return { workflow_id: OFFLINE_WORKFLOW_ID, version: 1, tenant: DEFAULT_TENANT, ...definition };
}

/**
 * The API refuses a body over its limit before reading it (413). Only a definition over MAX_DEFINITION_BYTES
 * can come near that limit, so the HTTP edge's module (and the middleware it loads) is read only then.
 */
async function checkBodySize(document: unknown): Promise<void> {
  const bytes = utf8Length(JSON.stringify(document) ?? '');
  if (bytes <= MAX_DEFINITION_BYTES) return;
  const { MAX_BODY_BYTES } = await import('../functions/middleware/http-handler.ts');
  if (bytes > MAX_BODY_BYTES) {
    throw new InvalidDefinitionError(`request body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes`, 'PAYLOAD_TOO_LARGE', 413, [
      { field: '(body)', message: `at most ${MAX_BODY_BYTES} bytes` },
    ]);
  }
}

/** The API's JSON parser refuses keys that could pollute prototypes, and the edge names each: the same walk. */
function checkForbiddenKeys(document: unknown): void {
  const issues = forbiddenKeyIssues(document);
  if (issues.length > 0) throw refusal(new ValidationError(issues));
}

/** A domain error as the HTTP edge would answer it (functions/middleware/envelope.ts ERROR_STATUS). */
function refusal(error: unknown): InvalidDefinitionError {
  if (!(error instanceof DomainError)) throw error;
  const { status, code } = ERROR_STATUS[error.name] ?? INTERNAL_ERROR;
  return new InvalidDefinitionError(error.message, code, status, error.details as FieldIssue[]);
}
