import { Graph, layout, type EdgeLabel, type GraphLabel, type NodeLabel } from '@dagrejs/dagre';

/** One box of the graph: an action. */
export interface DagNode {
  readonly id: string;
  readonly label: string;
  readonly type: string;
}

export interface DagEdge {
  readonly from: string;
  readonly to: string;
}

export interface PlacedNode extends DagNode {
  /** Top-left corner, in graph units (CSS pixels at zoom 1). */
  readonly left: number;
  readonly top: number;
}

export interface PlacedEdge extends DagEdge {
  /** SVG path data. */
  readonly path: string;
}

export interface DagLayout {
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly PlacedEdge[];
  readonly width: number;
  readonly height: number;
}

export const NODE_WIDTH = 196;
export const NODE_HEIGHT = 60;
const MARGIN = 16;

/** The edges a workflow's `depends_on` lists make (dependency -> dependent), ignoring names of no action. */
export function dependencyEdges(actions: readonly { readonly action_id: string; readonly depends_on?: readonly string[] | undefined }[]): DagEdge[] {
  const ids = new Set(actions.map((action) => action.action_id));
  return actions.flatMap((action) => (action.depends_on ?? []).filter((id) => ids.has(id)).map((id) => ({ from: id, to: action.action_id })));
}

/** Places the nodes left to right, dependencies before dependents (dagre's layered layout). */
export function layoutDag(nodes: readonly DagNode[], edges: readonly DagEdge[]): DagLayout {
  const graph = new Graph<GraphLabel, NodeLabel, EdgeLabel>({ multigraph: false });
  graph.setGraph({ rankdir: 'LR', nodesep: 22, ranksep: 56, marginx: MARGIN, marginy: MARGIN });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of edges) graph.setEdge(edge.from, edge.to);
  layout(graph);
  const placed = nodes.map((node) => {
    const box = graph.node(node.id);
    return { ...node, left: (box.x ?? 0) - NODE_WIDTH / 2, top: (box.y ?? 0) - NODE_HEIGHT / 2 };
  });
  const routed = edges.map((edge) => ({ ...edge, path: curve(graph.edge(edge.from, edge.to)?.points ?? []) }));
  const label = graph.graph();
  return { nodes: placed, edges: routed, width: Math.max(label.width ?? 0, NODE_WIDTH + 2 * MARGIN), height: Math.max(label.height ?? 0, NODE_HEIGHT + 2 * MARGIN) };
}

/** A smooth path through dagre's control points: straight ends, quadratic bends between midpoints. */
function curve(points: readonly { readonly x: number; readonly y: number }[]): string {
  if (points.length === 0) return '';
  const [first, ...rest] = points;
  let path = `M${first!.x},${first!.y}`;
  for (let index = 0; index < rest.length - 1; index += 1) {
    const point = rest[index]!;
    const next = rest[index + 1]!;
    path += ` Q${point.x},${point.y} ${(point.x + next.x) / 2},${(point.y + next.y) / 2}`;
  }
  const last = rest[rest.length - 1];
  if (last) path += ` L${last.x},${last.y}`;
  return path;
}
