import type { ActionProgress } from '../api/types.ts';
import { durationBetween, formatDuration, formatTime } from '../lib/format.ts';
import { ErrorCause } from './error-cause.tsx';
import { JsonBlock } from './feedback.tsx';
import { StatusBadge } from './status-badge.tsx';

/** Everything a run recorded of one action: status, attempts, times, output or error, compensation. */
export function ActionDetails({ action, name }: { readonly action: ActionProgress; readonly name: string }) {
  return (
    <div class="action-details" data-action-id={action.action_id}>
      <h2>{name}</h2>
      <p class="muted">
        <code>{action.action_id}</code> · {action.action_type}
      </p>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={action.status} />
        </dd>
        <dt>Attempts</dt>
        <dd>{action.attempts}</dd>
        <dt>Started</dt>
        <dd>{formatTime(action.started_at)}</dd>
        <dt>Ended</dt>
        <dd>{formatTime(action.ended_at)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(durationBetween(action.started_at, action.ended_at))}</dd>
        {action.reason && (
          <>
            <dt>Why</dt>
            <dd>{action.reason}</dd>
          </>
        )}
      </dl>
      {action.error && (
        <div class="alert alert-error action-error">
          <ErrorCause error={action.error.error} cause={action.error.cause} />
        </div>
      )}
      {action.output && (
        <>
          <h3>Output{action.output.status_code !== null ? ` (HTTP ${action.output.status_code})` : ''}</h3>
          <JsonBlock value={action.output.response} label={`Output of ${action.action_id}`} />
        </>
      )}
      {action.compensation && (
        <>
          <h3>Compensation</h3>
          <p>
            <StatusBadge status={action.compensation.status} /> · {action.compensation.attempts} attempts
            {action.compensation.started_at && ` · ${formatTime(action.compensation.started_at)}`}
          </p>
          {action.compensation.error && (
            <div class="alert alert-error">
              <ErrorCause error={action.compensation.error.error} cause={action.compensation.error.cause} />
            </div>
          )}
        </>
      )}
    </div>
  );
}
