import { Worker } from 'node:worker_threads';

export type WorkerOutcome = { readonly outcome: 'returned'; readonly value: unknown } | { readonly outcome: 'threw'; readonly message: string } | { readonly outcome: 'did not finish'; readonly reason: string };

const RUNNER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.url).then(
  (module) => {
    try {
      parentPort.postMessage({ outcome: 'returned', value: module[workerData.name](workerData.argument) });
    } catch (error) {
      parentPort.postMessage({ outcome: 'threw', message: String(error) });
    }
  },
  (error) => parentPort.postMessage({ outcome: 'threw', message: 'import failed: ' + String(error) }),
);
`;

/**
 * Calls `module[name](argument)` in a worker thread with a small heap and a deadline, so that a call that
 * loops forever (or grows memory without bound) fails the test quickly instead of hanging the run.
 */
export function callInWorker(moduleUrl: URL, name: string, argument: unknown, timeoutMs = 5000): Promise<WorkerOutcome> {
  return new Promise((resolve) => {
    const worker = new Worker(RUNNER, { eval: true, workerData: { url: moduleUrl.href, name, argument }, resourceLimits: { maxOldGenerationSizeMb: 96 } });
    let settled = false;
    const settle = (outcome: WorkerOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle({ outcome: 'did not finish', reason: `still running after ${timeoutMs} ms` }), timeoutMs);
    worker.on('message', (message: WorkerOutcome) => settle(message));
    worker.on('error', (error) => settle({ outcome: 'did not finish', reason: String(error) }));
    worker.on('exit', (code) => settle({ outcome: 'did not finish', reason: `worker exited with code ${code}` }));
  });
}
