import type { WorkflowParameter } from '../api/types.ts';
import { choiceLabel, controlOf } from '../lib/parameter-form.ts';

interface ParameterFieldProps {
  readonly id: string;
  readonly parameter: WorkflowParameter;
  readonly text: string;
  readonly error: string | undefined;
  readonly onChange: (text: string) => void;
}

/** One declared parameter as a labelled control, with its description as help and its problem under it. */
export function ParameterField({ id, parameter, text, error, onChange }: ParameterFieldProps) {
  const control = controlOf(parameter);
  const help = parameter.description ? `${id}-help` : undefined;
  const problem = error ? `${id}-error` : undefined;
  const common = {
    id,
    name: parameter.name,
    'aria-invalid': error !== undefined,
    'aria-required': parameter.required,
    'aria-describedby': [help, problem].filter(Boolean).join(' ') || undefined,
  };
  // Under every kind of control: the description as help, and the problem, both named by aria-describedby.
  const notes = (
    <>
      {help && (
        <span id={help} class="help">
          {parameter.description}
        </span>
      )}
      {problem && (
        <span id={problem} class="field-error">
          {parameter.name} {error}
        </span>
      )}
    </>
  );
  const label = (
    <label for={id}>
      <code>{parameter.name}</code> <span class="muted">{parameter.type}</span>
      {parameter.required && (
        <span class="required" aria-hidden="true">
          {' '}
          *
        </span>
      )}
    </label>
  );
  let input;
  if (control === 'choice') {
    input = (
      <select {...common} value={text} onChange={(event) => onChange(event.currentTarget.value)}>
        {(!parameter.required || text === '') && <option value="">{parameter.required ? 'Choose…' : '(not set)'}</option>}
        {(parameter.enum ?? []).map((choice, index) => (
          <option key={index} value={String(index)}>
            {choiceLabel(choice)}
          </option>
        ))}
      </select>
    );
  } else if (control === 'checkbox') {
    return (
      <div class={`field checkbox ${error ? 'has-error' : ''}`} data-parameter={parameter.name}>
        <label for={id}>
          <input {...common} type="checkbox" checked={text === 'true'} onChange={(event) => onChange(event.currentTarget.checked ? 'true' : 'false')} /> <code>{parameter.name}</code>{' '}
          <span class="muted">boolean</span>
        </label>
        {notes}
      </div>
    );
  } else if (control === 'tristate') {
    input = (
      <select {...common} value={text} onChange={(event) => onChange(event.currentTarget.value)}>
        <option value="">(not set)</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  } else if (control === 'json') {
    input = <textarea {...common} rows={4} spellcheck={false} class="mono" value={text} placeholder={parameter.type === 'array' ? '[ ]' : '{ }'} onInput={(event) => onChange(event.currentTarget.value)} />;
  } else {
    input = (
      <input
        {...common}
        type="text"
        inputMode={control === 'number' ? (parameter.type === 'integer' ? 'numeric' : 'decimal') : undefined}
        autoComplete="off"
        value={text}
        onInput={(event) => onChange(event.currentTarget.value)}
      />
    );
  }
  return (
    <div class={`field ${error ? 'has-error' : ''}`} data-parameter={parameter.name}>
      {label}
      {input}
      {notes}
    </div>
  );
}
