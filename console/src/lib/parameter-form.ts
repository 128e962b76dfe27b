import type { WorkflowParameter } from '../api/types.ts';

/**
 * The run form's logic, apart from its looks: how each declared parameter is edited (as text, a choice, a
 * checkbox, JSON), its starting value, and the value a person's input stands for, refused with a message
 * before anything is sent when it does not fit the declaration.
 */

export type Control = 'text' | 'number' | 'checkbox' | 'tristate' | 'choice' | 'json';

/** How a parameter is edited. A boolean that may be left out needs a third state, "not set". */
export function controlOf(parameter: WorkflowParameter): Control {
  if (parameter.enum) return 'choice';
  switch (parameter.type) {
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return parameter.required || parameter.default !== undefined ? 'checkbox' : 'tristate';
    case 'object':
    case 'array':
      return 'json';
    default:
      return 'text';
  }
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The form's starting text for a parameter: its default, as the control shows it (a choice: its index). */
export function initialText(parameter: WorkflowParameter): string {
  const value = parameter.default;
  if (value === undefined) return controlOf(parameter) === 'checkbox' ? 'false' : '';
  if (parameter.enum) {
    const index = parameter.enum.findIndex((choice) => sameJson(choice, value));
    return index < 0 ? '' : String(index);
  }
  if (parameter.type === 'object' || parameter.type === 'array') return JSON.stringify(value, null, 2);
  return String(value);
}

/** A choice's label: strings as they are, other values as JSON. */
export const choiceLabel = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

export type Parsed = { readonly set: false; readonly error?: string } | { readonly set: true; readonly value: unknown; readonly error?: undefined } | { readonly set: true; readonly error: string };

/** The value `text` stands for, or why it does not fit the declaration. Empty optional input: not set. */
export function parseParameter(parameter: WorkflowParameter, text: string): Parsed {
  const control = controlOf(parameter);
  const blank = control === 'text' ? text === '' : text.trim() === '';
  if (blank) return parameter.required ? { set: false, error: 'is required' } : { set: false };
  const fail = (error: string): Parsed => ({ set: true, error });
  if (control === 'choice') {
    const choice = parameter.enum?.[Number(text)];
    return choice === undefined ? fail('must be one of the choices') : { set: true, value: choice };
  }
  switch (parameter.type) {
    case 'string':
      return { set: true, value: text };
    case 'integer': {
      const value = Number(text.trim());
      if (!/^[-+]?\d+$/.test(text.trim())) return fail('must be a whole number, e.g. 42');
      return Number.isSafeInteger(value) ? { set: true, value } : fail('is too large for a whole number (at most 9007199254740991)');
    }
    case 'number': {
      const value = Number(text.trim());
      return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text.trim()) && Number.isFinite(value) ? { set: true, value } : fail('must be a number, e.g. 3.5');
    }
    case 'boolean':
      return text === 'true' ? { set: true, value: true } : text === 'false' ? { set: true, value: false } : fail('must be true or false');
    case 'object':
    case 'array': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return fail(parameter.type === 'object' ? 'must be a JSON object, e.g. {"key": "value"}' : 'must be a JSON array, e.g. [1, 2, 3]');
      }
      if (parameter.type === 'array') return Array.isArray(value) ? { set: true, value } : fail('must be a JSON array, e.g. [1, 2, 3]');
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? { set: true, value } : fail('must be a JSON object, e.g. {"key": "value"}');
    }
    default:
      return { set: true, value: text };
  }
}

/** The run's parameters from the form's texts, or every problem by parameter name. */
export function buildParameters(parameters: readonly WorkflowParameter[], texts: Readonly<Record<string, string>>): { readonly values: Record<string, unknown>; readonly errors: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const parameter of parameters) {
    const parsed = parseParameter(parameter, texts[parameter.name] ?? initialText(parameter));
    if (parsed.error !== undefined) errors[parameter.name] = parsed.error;
    else if (parsed.set) values[parameter.name] = parsed.value;
  }
  return { values, errors };
}

/** The parameter a run's 400 detail names (`parameters.count`, `parameters.items[2]`), if any. */
export function parameterOfField(field: string): string | undefined {
  const found = /^(?:body\.)?parameters\.([A-Za-z_][A-Za-z0-9_-]*)/.exec(field);
  return found?.[1];
}
