import { useState } from 'preact/hooks';
import type { RouteName } from '../../../client/index.ts';
import { useCan, useClient } from '../api/context.ts';
import type { Execution } from '../api/types.ts';
import { ErrorBox } from './feedback.tsx';

type Control = Extract<RouteName, 'cancelExecution' | 'pauseExecution' | 'resumeExecution' | 'retryExecution'>;

/** The buttons a run's status allows (and the caller's role: operators and admins control runs). */
export function RunControls({ run, onChange }: { readonly run: Execution; readonly onChange: (run: Execution) => void }) {
  const client = useClient();
  const canControl = useCan('operator');
  const [busy, setBusy] = useState<Control | undefined>(undefined);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  if (!canControl) return null;

  const act = async (route: Control) => {
    setBusy(route);
    setError(undefined);
    setConfirmCancel(false);
    try {
      const params = { execution_id: run.execution_id };
      onChange(route === 'retryExecution' ? await client.call(route, { params, body: {} }) : await client.call(route, { params }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(undefined);
    }
  };

  const { status } = run;
  const canCancel = status === 'pending' || status === 'running' || status === 'paused';
  return (
    <div class="run-controls">
      <div class="button-row" role="group" aria-label="Run controls">
        {status === 'running' && (
          <button type="button" class="secondary" disabled={busy !== undefined} onClick={() => void act('pauseExecution')}>
            {busy === 'pauseExecution' ? 'Pausing…' : 'Pause'}
          </button>
        )}
        {status === 'paused' && (
          <button type="button" disabled={busy !== undefined} onClick={() => void act('resumeExecution')}>
            {busy === 'resumeExecution' ? 'Resuming…' : 'Resume'}
          </button>
        )}
        {(status === 'failed' || status === 'timed_out' || status === 'cancelled') && (
          <button type="button" disabled={busy !== undefined} onClick={() => void act('retryExecution')} title="Resume the run where it stopped: completed actions are reused">
            {busy === 'retryExecution' ? 'Retrying…' : 'Retry'}
          </button>
        )}
        {canCancel && !confirmCancel && (
          <button type="button" class="danger" disabled={busy !== undefined} onClick={() => setConfirmCancel(true)}>
            Cancel run
          </button>
        )}
        {confirmCancel && (
          <span class="confirm" role="group" aria-label="Confirm cancel">
            Stop this run?{' '}
            <button type="button" class="danger" onClick={() => void act('cancelExecution')}>
              Yes, cancel it
            </button>
            <button type="button" class="secondary" onClick={() => setConfirmCancel(false)}>
              Keep it running
            </button>
          </span>
        )}
      </div>
      <ErrorBox error={error} title="The run did not change" />
    </div>
  );
}
