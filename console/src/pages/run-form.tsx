import { useId, useState } from 'preact/hooks';
import { useCan, useClient } from '../api/context.ts';
import type { Workflow } from '../api/types.ts';
import { ErrorBox, Loading, Notice } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { ParameterField } from '../components/parameter-field.tsx';
import { useAsync } from '../hooks/use-async.ts';
import { useTitle } from '../hooks/use-title.ts';
import { fieldErrors } from '../lib/format.ts';
import { buildParameters, initialText, parameterOfField } from '../lib/parameter-form.ts';
import { randomKey } from '../lib/ids.ts';
import { navigate } from '../router.ts';

/** Starts a run: a form made from the version's parameter declarations, checked before it is sent. */
export function RunFormPage({ id }: { readonly id: string }) {
  const client = useClient();
  const canRun = useCan('operator');
  const latest = useAsync(() => client.call('getWorkflow', { params: { workflow_id: id } }), [id]);
  const [version, setVersion] = useState<number | undefined>(undefined);
  const chosen = useAsync(async () => (version === undefined ? undefined : client.call('getWorkflow', { params: { workflow_id: id }, query: { version } })), [id, version]);
  useTitle(`Run ${latest.data?.name ?? 'workflow'}`);
  const versionId = useId();

  if (latest.error !== undefined) return <ErrorBox error={latest.error} title="Could not load the workflow" onRetry={latest.reload} />;
  if (!latest.data) return <Loading what="the workflow" />;
  if (!canRun) return <Notice kind="warning">Starting runs needs the operator role; you are signed in without it.</Notice>;
  const workflow = version === undefined ? latest.data : chosen.data;
  return (
    <>
      <div class="page-head">
        <h1>Run {latest.data.name}</h1>
        <Link to={`/workflows/${encodeURIComponent(id)}`} class="button secondary">
          Back to the workflow
        </Link>
      </div>
      <div class="field narrow">
        <label for={versionId}>Version</label>
        <select id={versionId} value={String(version ?? latest.data.latest_version)} onChange={(event) => setVersion(Number(event.currentTarget.value) === latest.data?.latest_version ? undefined : Number(event.currentTarget.value))}>
          {Array.from({ length: latest.data.latest_version }, (_, index) => latest.data!.latest_version - index).map((candidate) => (
            <option key={candidate} value={String(candidate)}>
              {candidate}
              {candidate === latest.data!.latest_version ? ' (latest)' : ''}
            </option>
          ))}
        </select>
      </div>
      <ErrorBox error={chosen.error} title="Could not load that version" />
      {workflow ? <RunForm key={workflow.version} workflow={workflow} pinned={version} /> : <Loading what="the version" />}
    </>
  );
}

function RunForm({ workflow, pinned }: { readonly workflow: Workflow; readonly pinned: number | undefined }) {
  const client = useClient();
  const ids = useId();
  const [texts, setTexts] = useState<Record<string, string>>(() => Object.fromEntries(workflow.parameters.map((parameter) => [parameter.name, initialText(parameter)])));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  // One key per filled-in form: sending the same form twice (a double click, a retry after a lost answer) starts one run.
  const [idempotencyKey, setIdempotencyKey] = useState(() => randomKey());

  const fieldId = (name: string) => `${ids}-p-${name}`;
  const focusFirst = (names: readonly string[]) => {
    const first = workflow.parameters.find((parameter) => names.includes(parameter.name));
    if (first) document.getElementById(fieldId(first.name))?.focus();
  };

  const submit = async () => {
    setFailure(undefined);
    const built = buildParameters(workflow.parameters, texts);
    setErrors(built.errors);
    if (Object.keys(built.errors).length > 0) {
      focusFirst(Object.keys(built.errors));
      return;
    }
    setBusy(true);
    try {
      const run = await client.call('executeWorkflow', {
        params: { workflow_id: workflow.workflow_id },
        body: { parameters: built.values, ...(pinned === undefined ? {} : { version: pinned }) },
        headers: { 'Idempotency-Key': idempotencyKey },
      });
      navigate(`/runs/${encodeURIComponent(run.execution_id)}`);
    } catch (error) {
      setBusy(false);
      const byParameter: Record<string, string> = {};
      for (const [field, message] of fieldErrors(error)) {
        const name = parameterOfField(field);
        if (name) byParameter[name] = message;
      }
      setErrors(byParameter);
      setFailure(error);
      focusFirst(Object.keys(byParameter));
    }
  };

  const problemCount = Object.keys(errors).length;
  return (
    <form
      class="card run-form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <h2>Parameters</h2>
      {workflow.parameters.length === 0 && <p class="muted">This version takes no parameters.</p>}
      {workflow.parameters.some((parameter) => parameter.required) && (
        <p class="help">
          Fields marked <span class="required">*</span> are required.
        </p>
      )}
      {problemCount > 0 && (
        <p class="alert alert-error" role="alert">
          {problemCount === 1 ? 'One parameter needs' : `${problemCount} parameters need`} a fix before the run can start.
        </p>
      )}
      {workflow.parameters.map((parameter) => (
        <ParameterField
          key={parameter.name}
          id={fieldId(parameter.name)}
          parameter={parameter}
          text={texts[parameter.name] ?? ''}
          error={errors[parameter.name]}
          onChange={(text) => {
            setTexts({ ...texts, [parameter.name]: text });
            setIdempotencyKey(randomKey());
            if (errors[parameter.name]) {
              const rest = { ...errors };
              delete rest[parameter.name];
              setErrors(rest);
            }
          }}
        />
      ))}
      {problemCount === 0 && <ErrorBox error={failure} title="The run did not start" />}
      <button type="submit" disabled={busy}>
        {busy ? 'Starting…' : 'Start run'}
      </button>
    </form>
  );
}
