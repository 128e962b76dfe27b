import { readFile } from 'node:fs/promises';
import type { GraphNode } from '../core/workflow/graph.ts';

/** A task graph from the Standard Task Graph Set: nodes plus each task's cost. Dummy zero-cost tasks dropped. */
export interface TaskGraph {
  readonly name: string;
  readonly nodes: GraphNode[];
  readonly cost: Map<string, number>;
}

export async function readStg(path: string, name: string): Promise<TaskGraph> {
  const lines = (await readFile(path, 'utf8')).split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const count = Number(lines[0]!.split(/\s+/)[0]);
  const rows = lines.slice(1, count + 3).map((line) => line.split(/\s+/).map(Number));
  const dummies = new Set(rows.filter((row) => row[1] === 0 && (row[0] === 0 || row[0] === count + 1)).map((row) => row[0]!));
  const nodes: GraphNode[] = [];
  const cost = new Map<string, number>();
  for (const [id, taskCost, predCount, ...preds] of rows) {
    if (id === undefined || dummies.has(id)) continue;
    const actionId = `t${id}`;
    cost.set(actionId, taskCost!);
    nodes.push({ action_id: actionId, depends_on: preds.slice(0, predCount).filter((pred) => !dummies.has(pred)).map((pred) => `t${pred}`) });
  }
  return { name, nodes, cost };
}
