import { useId, useRef } from 'preact/hooks';

export interface EditorProblem {
  readonly line: number;
  /** The field path the API named, when it named one. */
  readonly field?: string;
  readonly message: string;
}

interface JsonEditorProps {
  readonly label: string;
  readonly value: string;
  readonly onInput: (value: string) => void;
  readonly problems: readonly EditorProblem[];
  readonly rows?: number;
}

const LINE_HEIGHT_EM = 1.5;

/**
 * A JSON text area with line numbers; each problem marks its line in the gutter and is listed under the
 * editor with a button that puts the cursor on that line.
 */
export function JsonEditor({ label, value, onInput, problems, rows = 24 }: JsonEditorProps) {
  const id = useId();
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const lineCount = value.split('\n').length;
  const marked = new Set(problems.map((problem) => problem.line));

  const goTo = (line: number) => {
    const element = area.current;
    if (!element) return;
    const starts = value.split('\n');
    const start = starts.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
    element.focus();
    element.setSelectionRange(start, start + (starts[line - 1]?.length ?? 0));
    const lineHeight = Number.parseFloat(window.getComputedStyle(element).lineHeight) || 20;
    element.scrollTop = Math.max(0, (line - 4) * lineHeight);
  };

  return (
    <div class="json-editor">
      <label for={id}>{label}</label>
      <div class="editor-frame">
        <div class="gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lineCount }, (_, index) => (
            <span key={index} class={marked.has(index + 1) ? 'gutter-error' : undefined}>
              {marked.has(index + 1) ? '⚠ ' : ''}
              {index + 1}
            </span>
          ))}
        </div>
        <textarea
          id={id}
          ref={area}
          value={value}
          rows={rows}
          wrap="off"
          spellcheck={false}
          autoComplete="off"
          aria-invalid={problems.length > 0}
          aria-describedby={problems.length > 0 ? `${id}-problems` : undefined}
          style={{ lineHeight: `${LINE_HEIGHT_EM}em` }}
          onInput={(event) => onInput(event.currentTarget.value)}
          onScroll={(event) => {
            if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
          }}
        />
      </div>
      {problems.length > 0 && (
        <ul id={`${id}-problems`} class="problems" aria-label="Problems">
          {problems.map((problem, index) => (
            <li key={index} data-field={problem.field}>
              <button type="button" class="link-button" onClick={() => goTo(problem.line)}>
                Line {problem.line}
              </button>{' '}
              {problem.field && <code>{problem.field}</code>}
              {problem.field ? ': ' : ''}
              {problem.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
