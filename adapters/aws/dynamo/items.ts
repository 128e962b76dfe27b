import * as z from 'zod';
import { CorruptItemError } from '../../../core/errors.ts';
import { zodIssues } from '../../../core/workflow/validate.ts';

/**
 * Stored items are parsed, never cast (DESIGN.md, "Edges parse, never cast"): every store turns the items it
 * reads into domain objects through a zod schema kept beside its table design (execution-items.ts,
 * registry-items.ts, security-items.ts, workflow-items.ts). A schema checks the shape the code relies on
 * (types, enums, JSON held in string attributes), not the rules of the API that wrote the item, which may have
 * changed since; defaults in a schema are the compatibility with items written by older versions.
 */

/** A stored item as the document client returns it. */
export type StoredItem = Record<string, unknown>;

/**
 * `item` read through `schema`; CorruptItemError when it does not fit, naming the item (`what`, its pk and
 * sk), and each attribute path with the rule it breaks (all of them in `details`). `what` says which kind of
 * item it is, e.g. `execution` or `workflow version`.
 */
export function parseItem<S extends z.ZodType>(schema: S, item: StoredItem, what: string): z.output<S> {
  const parsed = schema.safeParse(item);
  if (parsed.success) return parsed.data;
  const issues = zodIssues(parsed.error, '').map((issue) => (issue.field === '(body)' ? { ...issue, field: '(item)' } : issue));
  const [first] = issues;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  const problem = first ? `${first.field}: ${first.message}` : 'does not fit its schema';
  throw new CorruptItemError(`stored ${what} item ${describeKey(item)} is corrupt: ${problem}${more}`, issues, { cause: parsed.error });
}

/** A table item's key (every table here has `pk` and `sk`), for reads that need nothing else. */
export const ItemKey = z.object({ pk: z.string(), sk: z.string() });

/** `(pk "EX#1", sk "EXECUTION")`: how an error names a table item. */
export function describeKey(item: StoredItem): string {
  const part = (name: string) => `${name} ${typeof item[name] === 'string' ? JSON.stringify(item[name]) : 'missing'}`;
  return `(${part('pk')}, ${part('sk')})`;
}

/**
 * An attribute holding JSON as text (large or free-form values: a definition, a run's output), parsed and
 * then read with `schema`. Text that is not JSON is one issue at the attribute ("not valid JSON: ..."); the
 * schema's issues have paths inside the attribute (`definition.actions[0].action_id`).
 */
export function jsonText<S extends z.ZodType>(schema: S) {
  return z
    .string({ error: 'must be a string of JSON' })
    .transform((text, context): unknown => {
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        context.addIssue({ code: 'custom', message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}
