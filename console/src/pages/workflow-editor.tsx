import { useEffect, useState } from 'preact/hooks';
import { OrchestratorApiError, type RequestOf } from '../../../client/index.ts';
import { useCan, useClient } from '../api/context.ts';
import type { Workflow } from '../api/types.ts';
import { ErrorBox, Loading, Notice } from '../components/feedback.tsx';
import { JsonEditor, type EditorProblem } from '../components/json-editor.tsx';
import { Link } from '../components/link.tsx';
import { TemplatePicker } from '../components/template-picker.tsx';
import { useAsync } from '../hooks/use-async.ts';
import { useTitle } from '../hooks/use-title.ts';
import { lineOf, prettyWithPaths, syntaxErrorPosition } from '../lib/json-lines.ts';
import { navigate } from '../router.ts';

type CreateBody = RequestOf<'createWorkflow'>['body'];
type UpdateBody = RequestOf<'updateWorkflow'>['body'];

const STARTER = {
  name: 'My workflow',
  description: '',
  tags: [],
  parameters: [{ name: 'message', type: 'string', required: true, description: 'What to say' }],
  actions: [{ action_id: 'greet', action_type: 'notification', name: 'Send greeting', config: { message: '{{message}}' } }],
};

/** What the editor shows of an existing workflow: the fields an update may change. */
const editable = (workflow: Workflow) => ({
  name: workflow.name,
  description: workflow.description,
  tags: workflow.tags,
  status: workflow.status,
  execution_mode: workflow.execution_mode,
  strict_parameters: workflow.strict_parameters,
  parameters: workflow.parameters,
  actions: workflow.actions,
});

/** Create a workflow (as JSON, or from a template), or edit one; the API's field problems show at their lines. */
export function WorkflowEditorPage({ id, template }: { readonly id?: string; readonly template?: string | undefined }) {
  useTitle(id ? 'Edit workflow' : 'New workflow');
  const client = useClient();
  const canWrite = useCan('operator');
  const existing = useAsync(async () => (id ? client.call('getWorkflow', { params: { workflow_id: id } }) : undefined), [id]);
  const [text, setText] = useState<string | undefined>(id ? undefined : prettyWithPaths(STARTER).text);
  const [problems, setProblems] = useState<readonly EditorProblem[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (existing.data && text === undefined) setText(prettyWithPaths(editable(existing.data)).text);
  }, [existing.data, text]);

  if (!canWrite) return <Notice kind="warning">Creating and editing workflows needs the operator role; you are signed in without it.</Notice>;
  if (id && existing.error !== undefined) return <ErrorBox error={existing.error} title="Could not load the workflow" onRetry={existing.reload} />;
  if (text === undefined) return <Loading what="the workflow" />;

  const save = async () => {
    setError(undefined);
    setProblems([]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (failure) {
      const at = syntaxErrorPosition(text, failure);
      setProblems([{ line: at?.line ?? 1, message: `not valid JSON${at ? ` (column ${at.column})` : ''}: ${failure instanceof Error ? failure.message : String(failure)}` }]);
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      setProblems([{ line: 1, message: 'the definition must be a JSON object' }]);
      return;
    }
    // Laid out as the line map knows it, so that the API's field paths land on the right lines.
    const { text: formatted, lines } = prettyWithPaths(parsed);
    setText(formatted);
    setBusy(true);
    try {
      // The API validates the definition (every problem with its field); the console only checks it is an object.
      const saved = id
        ? await client.call('updateWorkflow', { params: { workflow_id: id }, body: parsed as UpdateBody, headers: existing.data ? { 'If-Match': `"${existing.data.revision}"` } : {} })
        : await client.call('createWorkflow', { body: parsed as CreateBody });
      navigate(`/workflows/${encodeURIComponent(saved.workflow_id)}`);
    } catch (failure) {
      setBusy(false);
      if (failure instanceof OrchestratorApiError && failure.details.length > 0) {
        setProblems(failure.details.map((detail) => ({ line: lineOf(lines, detail.field), field: detail.field, message: detail.message })));
      }
      setError(failure);
    }
  };

  const loadLatest = async () => {
    if (!id) return;
    try {
      const latest = await client.call('getWorkflow', { params: { workflow_id: id } });
      existing.setData(latest);
      setText(prettyWithPaths(editable(latest)).text);
      setProblems([]);
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  };

  const conflict = error instanceof OrchestratorApiError && error.status === 409;
  return (
    <>
      <div class="page-head">
        <h1>{id ? `Edit ${existing.data?.name ?? 'workflow'}` : 'New workflow'}</h1>
        <Link to={id ? `/workflows/${encodeURIComponent(id)}` : '/workflows'} class="button secondary">
          Cancel
        </Link>
      </div>
      {!id && <TemplatePicker initial={template} onEdit={(definition) => setText(prettyWithPaths(definition).text)} />}
      <form
        class="card"
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <h2>{id ? 'Definition' : 'Write the definition'}</h2>
        <p class="help">
          Parameters (<code>string</code>, <code>integer</code>, <code>number</code>, <code>boolean</code>, <code>array</code>, <code>object</code>) and actions (<code>service_call</code>,{' '}
          <code>notification</code>, <code>wait</code>, <code>transform</code>, <code>foreach</code>, <code>sub_workflow</code>) wired by <code>depends_on</code>.
          {id && ' Changing parameters, actions or the execution mode makes a new version.'}
        </p>
        <JsonEditor label="Workflow definition (JSON)" value={text} onInput={setText} problems={problems} />
        {conflict ? (
          <div class="alert alert-error" role="alert">
            <strong>Someone changed this workflow since you opened it.</strong>
            <p>Load the latest version and make your change again (your edits here are replaced).</p>
            <button type="button" onClick={() => void loadLatest()}>
              Load the latest
            </button>
          </div>
        ) : (
          <ErrorBox error={problems.length > 0 ? undefined : error} title="Not saved" />
        )}
        {problems.length > 0 && error !== undefined && (
          <p class="alert alert-error" role="alert">
            Not saved: {problems.length} {problems.length === 1 ? 'problem' : 'problems'}, marked at {problems.length === 1 ? 'its line' : 'their lines'}.
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : id ? 'Save' : 'Create workflow'}
        </button>
      </form>
    </>
  );
}
