import { useId, useState } from 'preact/hooks';
import { useClient } from '../api/context.ts';
import type { WorkflowVersion } from '../api/types.ts';
import { useAsync } from '../hooks/use-async.ts';
import { diffLines, foldUnchanged } from '../lib/diff.ts';
import { formatTime } from '../lib/format.ts';
import { ErrorBox, Loading } from './feedback.tsx';

/** The versioned part of a version, as the text the diff compares. */
const versionText = (version: WorkflowVersion): string[] =>
  JSON.stringify({ name: version.name, execution_mode: version.execution_mode, strict_parameters: version.strict_parameters, parameters: version.parameters, actions: version.actions }, null, 2).split('\n');

/** Every version of a workflow, and a diff between any two of them (the one before the latest and the latest first). */
export function Versions({ workflowId }: { readonly workflowId: string }) {
  const client = useClient();
  const versions = useAsync(() => client.call('listWorkflowVersions', { params: { workflow_id: workflowId } }), [workflowId]);
  const [pair, setPair] = useState<{ from?: number; to?: number }>({});
  const ids = useId();

  if (versions.error !== undefined) return <ErrorBox error={versions.error} title="Could not list the versions" onRetry={versions.reload} />;
  if (!versions.data) return <Loading what="versions" />;
  const list = versions.data.versions;
  const latest = list[list.length - 1]?.version ?? 1;
  const from = pair.from ?? Math.max(1, latest - 1);
  const to = pair.to ?? latest;
  const before = list.find((version) => version.version === from);
  const after = list.find((version) => version.version === to);
  const hunks = before && after ? foldUnchanged(diffLines(versionText(before), versionText(after))) : [];
  const changed = hunks.some((hunk) => hunk.kind === 'lines' && hunk.lines.some((line) => line.kind !== 'same'));

  return (
    <>
      <div class="table-wrap">
        <table class="data">
          <caption>Versions (a change of parameters, actions or execution mode makes a new one)</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Name</th>
              <th scope="col">Parameters</th>
              <th scope="col">Actions</th>
              <th scope="col">Created by</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {[...list].reverse().map((version) => (
              <tr key={version.version}>
                <th scope="row">{version.version}</th>
                <td>{version.name}</td>
                <td>{version.parameters.length}</td>
                <td>{version.actions.length}</td>
                <td>{version.created_by}</td>
                <td>{formatTime(version.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Compare versions</h2>
      {list.length < 2 ? (
        <p class="muted">There is one version: nothing to compare yet.</p>
      ) : (
        <>
          <div class="filters">
            {(['from', 'to'] as const).map((end) => (
              <div class="field" key={end}>
                <label for={`${ids}-${end}`}>{end === 'from' ? 'From version' : 'To version'}</label>
                <select id={`${ids}-${end}`} value={String(end === 'from' ? from : to)} onChange={(event) => setPair({ from, to, [end]: Number(event.currentTarget.value) })}>
                  {list.map((version) => (
                    <option key={version.version} value={String(version.version)}>
                      {version.version}
                    </option>
                  ))}
                </select>
              </div>
            ))}
          </div>
          {!changed ? (
            <p class="muted">Versions {from} and {to} define the same workflow.</p>
          ) : (
            <pre class="diff" tabIndex={0} aria-label={`Changes from version ${from} to version ${to}`}>
              {hunks.map((hunk, index) =>
                hunk.kind === 'skipped' ? (
                  <span key={index} class="diff-skip">
                    {`… ${hunk.count} unchanged line${hunk.count === 1 ? '' : 's'}\n`}
                  </span>
                ) : (
                  hunk.lines.map((line, lineIndex) => (
                    <span key={`${index}-${lineIndex}`} class={`diff-${line.kind}`}>
                      {`${line.kind === 'added' ? '+' : line.kind === 'removed' ? '-' : ' '} ${line.text}\n`}
                    </span>
                  ))
                ),
              )}
            </pre>
          )}
        </>
      )}
    </>
  );
}
