import { useEffect, useState } from 'preact/hooks';
import { useCan, useClient } from '../api/context.ts';
import type { Execution, Workflow } from '../api/types.ts';
import { ActionDetails } from '../components/action-details.tsx';
import { ErrorCause } from '../components/error-cause.tsx';
import { Dag, TypeLegend } from '../components/dag.tsx';
import { dependencyEdges } from '../components/dag-layout.ts';
import { ErrorBox, JsonBlock, Loading, Notice } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { RunControls } from '../components/run-controls.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { Timeline } from '../components/timeline.tsx';
import { useAsync } from '../hooks/use-async.ts';
import { useLiveExecution, type LiveMode } from '../hooks/use-live-execution.ts';
import { useTitle } from '../hooks/use-title.ts';
import { durationBetween, formatDuration, formatTime, shortId } from '../lib/format.ts';
import { navigate } from '../router.ts';

const MODE_WORDS: Readonly<Record<LiveMode, string>> = {
  connecting: 'Connecting…',
  stream: 'Live: following the run’s events',
  polling: 'Following the run: reading it every 2 s (the event stream is not available)',
  finished: 'Finished',
};

/** A run: its graph coloured by each action's status as it changes, a timeline, each action's record, and its controls. */
export function RunPage({ id }: { readonly id: string }) {
  useTitle(`Run ${shortId(id)}`);
  const client = useClient();
  const { run, setRun, error, mode } = useLiveExecution(client, id);
  const workflow = useAsync(
    async () => (run ? client.call('getWorkflow', { params: { workflow_id: run.workflow_id }, query: { version: run.workflow_version } }) : undefined),
    [run?.workflow_id, run?.workflow_version],
  );
  const [now, setNow] = useState(Date.now());
  const running = run !== undefined && mode !== 'finished';
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);

  if (!run) return error !== undefined ? <ErrorBox error={error} title="Could not load the run" /> : <Loading what="the run" />;
  return (
    <>
      <div class="page-head">
        <div>
          <h1>
            Run <code>{shortId(run.execution_id)}</code>
          </h1>
          <p class="muted">
            <code class="small">{run.execution_id}</code> of{' '}
            <Link to={`/workflows/${encodeURIComponent(run.workflow_id)}`}>{workflow.data?.name ?? run.workflow_id}</Link> version {run.workflow_version}
          </p>
        </div>
        <RunControls run={run} onChange={setRun} />
      </div>
      <RunFacts run={run} mode={mode} now={now} />
      {error !== undefined && <ErrorBox error={error} title="Could not read the run’s latest state" />}
      {run.error && (
        <div class="alert alert-error run-error" role="alert">
          <ErrorCause error={`Failed${run.error.action_id ? ` at ${run.error.action_id}` : ''}: ${run.error.error}`} cause={run.error.cause} full={false} />
        </div>
      )}
      {(run.warnings ?? []).map((warning) => (
        <Notice key={warning} kind="warning">
          {warning}
        </Notice>
      ))}
      {workflow.data ? <RunGraph run={run} workflow={workflow.data} now={now} /> : workflow.error !== undefined ? <ErrorBox error={workflow.error} title="Could not load the workflow’s graph" /> : <Loading what="the graph" />}
      <details>
        <summary>Parameters</summary>
        <JsonBlock value={run.parameters} label="Run parameters" />
      </details>
      {run.output !== undefined && (
        <details>
          <summary>Output</summary>
          <JsonBlock value={run.output} label="Run output" />
        </details>
      )}
    </>
  );
}

function RunFacts({ run, mode, now }: { readonly run: Execution; readonly mode: LiveMode; readonly now: number }) {
  return (
    <>
      <dl class="facts run-facts">
        <dt>Status</dt>
        <dd data-testid="run-status">
          <StatusBadge status={run.status} />
        </dd>
        <dt>Progress</dt>
        <dd>
          <progress max={run.progress.total} value={run.progress.completed} aria-label="Actions completed" /> {run.progress.completed}/{run.progress.total}
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(run.started_at ?? run.created_at)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(durationBetween(run.started_at ?? run.created_at, run.ended_at, now))}</dd>
        <dt>Started by</dt>
        <dd>{run.started_by}</dd>
        <dt>Trace</dt>
        <dd>
          <Link to={`/traces/${run.trace_id}`}>
            <code>{run.trace_id.slice(0, 12)}…</code>
          </Link>
        </dd>
        {(run.redrive_count ?? 0) > 0 && (
          <>
            <dt>Retried</dt>
            <dd>
              {run.redrive_count} {run.redrive_count === 1 ? 'time' : 'times'}
              {run.redrives?.length ? `, last by ${run.redrives[run.redrives.length - 1]!.by}` : ''}
            </dd>
          </>
        )}
        {run.rerun_of && (
          <>
            <dt>Rerun of</dt>
            <dd>
              <Link to={`/runs/${encodeURIComponent(run.rerun_of.execution_id)}`}>{shortId(run.rerun_of.execution_id)}</Link> from <code>{run.rerun_of.from_action}</code>
            </dd>
          </>
        )}
      </dl>
      <p class={`live live-${mode}`} role="status" data-testid="live-mode">
        {MODE_WORDS[mode]}
      </p>
    </>
  );
}

function RunGraph({ run, workflow, now }: { readonly run: Execution; readonly workflow: Workflow; readonly now: number }) {
  const client = useClient();
  const canControl = useCan('operator');
  const [selected, setSelected] = useState<string | undefined>(run.error?.action_id ?? run.actions.find((action) => action.status === 'failed')?.action_id);
  const [rerunError, setRerunError] = useState<unknown>(undefined);
  // A run that fails while it is watched shows where at once.
  const failedAt = run.error?.action_id;
  useEffect(() => {
    if (failedAt) setSelected((current) => current ?? failedAt);
  }, [failedAt]);
  const names = Object.fromEntries(workflow.actions.map((action) => [action.action_id, action.name ?? action.action_id]));
  const statuses = Object.fromEntries(run.actions.map((action) => [action.action_id, action.status]));
  const details = Object.fromEntries(
    run.actions.flatMap((action) => {
      if (action.error) return [[action.action_id, action.error.error]];
      if (action.attempts > 1) return [[action.action_id, `${action.attempts} attempts`]];
      return [];
    }),
  );
  const nodes = workflow.actions.map((action) => ({ id: action.action_id, label: names[action.action_id]!, type: action.action_type }));
  const action = run.actions.find((candidate) => candidate.action_id === selected);
  const finished = ['completed', 'failed', 'cancelled', 'timed_out'].includes(run.status);

  const rerun = async (from: string) => {
    setRerunError(undefined);
    try {
      const next = await client.call('retryExecution', { params: { execution_id: run.execution_id }, body: { from_action: from } });
      navigate(`/runs/${encodeURIComponent(next.execution_id)}`);
    } catch (failure) {
      setRerunError(failure);
    }
  };

  return (
    <>
      <div class="graph-layout">
        <div>
          <TypeLegend types={workflow.actions.map((candidate) => candidate.action_type)} />
          <Dag nodes={nodes} edges={dependencyEdges(workflow.actions)} statuses={statuses} details={details} selected={selected} onSelect={setSelected} label={`Actions of run ${shortId(run.execution_id)}`} />
        </div>
        <aside class="side-panel" aria-label="Selected action">
          {action ? (
            <>
              <ActionDetails action={action} name={names[action.action_id] ?? action.action_id} />
              {canControl && finished && (
                <button type="button" class="secondary" onClick={() => void rerun(action.action_id)} title="A new run that reuses every result not downstream of this action">
                  Rerun from this action
                </button>
              )}
              <ErrorBox error={rerunError} title="No rerun" />
            </>
          ) : (
            <p class="muted">Select an action to see its attempts, output and error.</p>
          )}
        </aside>
      </div>
      <h2>Timeline</h2>
      <Timeline
        label="When each action ran"
        now={now}
        onSelect={setSelected}
        rows={run.actions.map((candidate) => ({ id: candidate.action_id, label: names[candidate.action_id] ?? candidate.action_id, status: candidate.status, start: candidate.started_at, end: candidate.ended_at }))}
      />
    </>
  );
}
