import { useState } from 'preact/hooks';
import { useCan, useClient } from '../api/context.ts';
import type { Workflow } from '../api/types.ts';
import { Dag, TypeLegend } from '../components/dag.tsx';
import { dependencyEdges } from '../components/dag-layout.ts';
import { ErrorBox, JsonBlock, Loading } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { ParametersTable } from '../components/parameters-table.tsx';
import { StateMachineView } from '../components/state-machine.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { Tabs } from '../components/tabs.tsx';
import { Versions } from '../components/versions.tsx';
import { WorkflowRuns } from '../components/workflow-runs.tsx';
import { useAsync } from '../hooks/use-async.ts';
import { useTitle } from '../hooks/use-title.ts';
import { formatTime } from '../lib/format.ts';
import { navigate } from '../router.ts';

const TABS = [
  { id: 'graph', label: 'Graph' },
  { id: 'parameters', label: 'Parameters' },
  { id: 'versions', label: 'Versions' },
  { id: 'state-machine', label: 'State machine' },
  { id: 'runs', label: 'Runs' },
] as const;

/** One workflow: its graph, parameters, versions (with a diff), compiled state machine and runs. */
export function WorkflowPage({ id, tab }: { readonly id: string; readonly tab: string }) {
  const client = useClient();
  const workflow = useAsync(() => client.call('getWorkflow', { params: { workflow_id: id } }), [id]);
  useTitle(workflow.data?.name ?? 'Workflow');
  const selectedTab = TABS.some((candidate) => candidate.id === tab) ? tab : 'graph';

  if (workflow.error !== undefined && !workflow.data) return <ErrorBox error={workflow.error} title="Could not load the workflow" onRetry={workflow.reload} />;
  if (!workflow.data) return <Loading what="the workflow" />;
  const data = workflow.data;
  return (
    <>
      <WorkflowHeader workflow={data} />
      <Tabs tabs={TABS} selected={selectedTab} label="Workflow views" onSelect={(next) => navigate(`/workflows/${encodeURIComponent(id)}${next === 'graph' ? '' : `?tab=${next}`}`, { replace: true })}>
        {selectedTab === 'graph' && <WorkflowGraph workflow={data} />}
        {selectedTab === 'parameters' && <ParametersTable parameters={data.parameters} strict={data.strict_parameters} />}
        {selectedTab === 'versions' && <Versions workflowId={id} />}
        {selectedTab === 'state-machine' && <StateMachineView workflowId={id} latest={data.latest_version} />}
        {selectedTab === 'runs' && <WorkflowRuns workflowId={id} />}
      </Tabs>
    </>
  );
}

function WorkflowHeader({ workflow }: { readonly workflow: Workflow }) {
  const client = useClient();
  const canWrite = useCan('operator');
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const path = `/workflows/${encodeURIComponent(workflow.workflow_id)}`;
  const remove = async () => {
    setError(undefined);
    try {
      await client.call('deleteWorkflow', { params: { workflow_id: workflow.workflow_id }, headers: { 'If-Match': `"${workflow.revision}"` } });
      navigate('/workflows');
    } catch (failure) {
      setError(failure);
      setConfirming(false);
    }
  };
  return (
    <>
      <div class="page-head">
        <div>
          <h1>{workflow.name}</h1>
          <p class="muted">
            <StatusBadge status={workflow.status} /> version {workflow.version} · {workflow.actions.length} actions · {workflow.execution_mode} · created by {workflow.created_by},{' '}
            {formatTime(workflow.created_at)} · updated {formatTime(workflow.updated_at)}
          </p>
          {workflow.description && <p>{workflow.description}</p>}
          {workflow.tags.length > 0 && (
            <ul class="tags" aria-label="Tags">
              {workflow.tags.map((tag) => (
                <li key={tag}>{tag}</li>
              ))}
            </ul>
          )}
        </div>
        <div class="button-row">
          {canWrite && (
            <Link to={`${path}/run`} class="button">
              Run…
            </Link>
          )}
          {canWrite && (
            <Link to={`${path}/edit`} class="button secondary">
              Edit
            </Link>
          )}
          {canWrite && !confirming && (
            <button type="button" class="danger" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
          {confirming && (
            <span class="confirm" role="group" aria-label="Confirm delete">
              Delete this workflow and all its versions?{' '}
              <button type="button" class="danger" onClick={() => void remove()}>
                Yes, delete
              </button>
              <button type="button" class="secondary" onClick={() => setConfirming(false)}>
                Keep it
              </button>
            </span>
          )}
        </div>
      </div>
      <ErrorBox error={error} title="Not deleted" />
    </>
  );
}

function WorkflowGraph({ workflow }: { readonly workflow: Workflow }) {
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const nodes = workflow.actions.map((action) => ({ id: action.action_id, label: action.name ?? action.action_id, type: action.action_type }));
  const action = workflow.actions.find((candidate) => candidate.action_id === selected);
  return (
    <div class="graph-layout">
      <div>
        <TypeLegend types={workflow.actions.map((candidate) => candidate.action_type)} />
        <Dag nodes={nodes} edges={dependencyEdges(workflow.actions)} selected={selected} onSelect={(next) => setSelected(next === selected ? undefined : next)} label={`Actions of ${workflow.name}`} />
      </div>
      <aside class="side-panel" aria-live="polite" aria-label="Selected action">
        {action ? (
          <>
            <h2>{action.name ?? action.action_id}</h2>
            <p class="muted">
              <code>{action.action_id}</code> · {action.action_type}
              {action.depends_on.length > 0 && <> · after {action.depends_on.join(', ')}</>}
            </p>
            {action.description && <p>{action.description}</p>}
            <JsonBlock value={action} label={`Definition of ${action.action_id}`} />
          </>
        ) : (
          <p class="muted">Select an action to see its definition.</p>
        )}
      </aside>
    </div>
  );
}
