import { useId, useState } from 'preact/hooks';
import { useClient } from '../api/context.ts';
import { useAsync } from '../hooks/use-async.ts';
import { ErrorBox, JsonBlock, Loading, Notice } from './feedback.tsx';

type Structure = { readonly kind: 'action'; readonly id: string } | { readonly kind: 'sequence'; readonly steps: readonly unknown[] } | { readonly kind: 'parallel'; readonly branches: readonly unknown[] };

/** The API types the structure as unknown (it is recursive): read it back with a check per level. */
function asStructure(value: unknown): Structure | undefined {
  if (typeof value !== 'object' || value === null || !('kind' in value)) return undefined;
  if (value.kind === 'action' && 'id' in value && typeof value.id === 'string') return { kind: 'action', id: value.id };
  if (value.kind === 'sequence' && 'steps' in value && Array.isArray(value.steps)) return { kind: 'sequence', steps: value.steps };
  if (value.kind === 'parallel' && 'branches' in value && Array.isArray(value.branches)) return { kind: 'parallel', branches: value.branches };
  return undefined;
}

/** Series-parallel structure as nested lists: sequences in order, parallels side by side. */
function StructureTree({ node }: { readonly node: unknown }) {
  const structure = asStructure(node);
  if (!structure) return <span class="muted">(unknown piece)</span>;
  if (structure.kind === 'action') return <code>{structure.id}</code>;
  const items = structure.kind === 'sequence' ? structure.steps : structure.branches;
  const List = structure.kind === 'sequence' ? 'ol' : 'ul';
  return (
    <div class={`structure structure-${structure.kind}`}>
      <span class="structure-kind">{structure.kind === 'sequence' ? 'in order' : 'at the same time'}</span>
      <List>
        {items.map((item, index) => (
          <li key={index}>
            <StructureTree node={item} />
          </li>
        ))}
      </List>
    </div>
  );
}

/** The compiled Step Functions state machine of a version: its limits, structure, gates and ASL. */
export function StateMachineView({ workflowId, latest }: { readonly workflowId: string; readonly latest: number }) {
  const client = useClient();
  const [version, setVersion] = useState(latest);
  const selectId = useId();
  const machine = useAsync(() => client.call('getStateMachine', { params: { workflow_id: workflowId }, query: { version } }), [workflowId, version]);

  return (
    <>
      <div class="filters">
        <div class="field">
          <label for={selectId}>Version</label>
          <select id={selectId} value={String(version)} onChange={(event) => setVersion(Number(event.currentTarget.value))}>
            {Array.from({ length: latest }, (_, index) => latest - index).map((candidate) => (
              <option key={candidate} value={String(candidate)}>
                {candidate}
                {candidate === latest ? ' (latest)' : ''}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorBox error={machine.error} title="Could not compile the state machine" onRetry={machine.reload} />
      {machine.loading && !machine.data && <Loading what="the state machine" />}
      {machine.data && (
        <div aria-busy={machine.loading}>
          <dl class="facts">
            <dt>Execution mode</dt>
            <dd>{machine.data.execution_mode}</dd>
            <dt>State machines</dt>
            <dd>{machine.data.limits.machines}</dd>
            <dt>States</dt>
            <dd>{machine.data.limits.states}</dd>
            <dt>Largest definition</dt>
            <dd>{(machine.data.limits.definition_bytes / 1024).toFixed(1)} KiB</dd>
            <dt>History events per run (estimate)</dt>
            <dd>{machine.data.limits.estimated_history_events}</dd>
            <dt>Placeholders</dt>
            <dd>{machine.data.placeholders.join(', ') || '—'}</dd>
          </dl>
          {machine.data.limits.warnings.map((warning) => (
            <Notice key={warning} kind="warning">
              {warning}
            </Notice>
          ))}
          <h2>Structure</h2>
          <StructureTree node={machine.data.graph.structure} />
          <h2>Dependency gates</h2>
          {machine.data.graph.gates.length === 0 ? (
            <p class="muted">No action waits at a gate: the structure orders every dependency.</p>
          ) : (
            <ul>
              {machine.data.graph.gates.map((gate) => (
                <li key={gate.action_id}>
                  <code>{gate.action_id}</code> waits for {gate.waits_for.map((id) => <code key={id}>{id} </code>)}
                  {gate.in_call ? '(in its own call)' : '(at a gate state)'}
                </li>
              ))}
            </ul>
          )}
          {machine.data.graph.parts.length > 0 && (
            <>
              <h2>Child machines</h2>
              <ul>
                {machine.data.graph.parts.map((part) => (
                  <li key={part.part}>
                    Part {part.part}: {part.actions.join(', ')}
                  </li>
                ))}
              </ul>
            </>
          )}
          <details open>
            <summary>Amazon States Language (version {machine.data.version})</summary>
            <JsonBlock value={machine.data.definition} label="State machine definition" />
          </details>
          {machine.data.children.map((child) => (
            <details key={child.part}>
              <summary>Child machine {child.part}</summary>
              <JsonBlock value={child.definition} label={`Child machine ${child.part}`} />
            </details>
          ))}
        </div>
      )}
    </>
  );
}
