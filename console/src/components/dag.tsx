import { useId, useMemo } from 'preact/hooks';
import { usePanZoom } from '../hooks/use-pan-zoom.ts';
import { layoutDag, NODE_HEIGHT, NODE_WIDTH, type DagEdge, type DagNode } from './dag-layout.ts';

interface DagProps {
  readonly nodes: readonly DagNode[];
  readonly edges: readonly DagEdge[];
  /** Each action's status on a run's page; the workflow's page has none. */
  readonly statuses?: Readonly<Record<string, string>>;
  /** A short line under a node's name (an error's name, attempts). */
  readonly details?: Readonly<Record<string, string>>;
  readonly selected?: string | undefined;
  readonly onSelect?: (id: string) => void;
  /** What the graph shows, for screen readers: "Actions of Hello World". */
  readonly label: string;
}

/**
 * A workflow's actions as a graph, laid out left to right: one button per action (its type as the stripe
 * colour and a word, its status as the fill and a word), arrows from each dependency to its dependents.
 */
export function Dag({ nodes, edges, statuses, details, selected, onSelect, label }: DagProps) {
  // Statuses change while a run goes on; the layout depends on the shape only.
  const shape = JSON.stringify([nodes, edges]);
  const placed = useMemo(() => layoutDag(nodes, edges), [shape]);
  const { viewport, view, handlers, zoomIn, zoomOut, fit, pan } = usePanZoom(placed.width, placed.height);
  const marker = `dag-arrow-${useId().replace(/[^A-Za-z0-9_-]/g, '')}`;
  const helpId = `${marker}-help`;

  return (
    <div class="dag">
      <div class="dag-toolbar" role="toolbar" aria-label="Graph view">
        <button type="button" onClick={zoomIn} aria-label="Zoom in" title="Zoom in (+)">+</button>
        <button type="button" onClick={zoomOut} aria-label="Zoom out" title="Zoom out (-)">−</button>
        <button type="button" onClick={fit} title="Fit the graph (0)">Fit</button>
        <button type="button" onClick={() => pan(60, 0)} aria-label="Pan left" title="Pan left (←)">←</button>
        <button type="button" onClick={() => pan(-60, 0)} aria-label="Pan right" title="Pan right (→)">→</button>
        <button type="button" onClick={() => pan(0, 60)} aria-label="Pan up" title="Pan up (↑)">↑</button>
        <button type="button" onClick={() => pan(0, -60)} aria-label="Pan down" title="Pan down (↓)">↓</button>
        <span class="zoom-level" aria-live="polite">{Math.round(view.scale * 100)}%</span>
      </div>
      <div
        ref={viewport}
        class="dag-viewport"
        tabIndex={0}
        role="group"
        aria-label={`${label}: ${nodes.length} actions`}
        aria-describedby={helpId}
        onPointerDown={handlers.onPointerDown}
        onPointerMove={handlers.onPointerMove}
        onPointerUp={handlers.onPointerUp}
        onPointerCancel={handlers.onPointerUp}
        onKeyDown={handlers.onKeyDown}
      >
        <p id={helpId} class="visually-hidden">
          Arrow keys pan, plus and minus zoom, 0 fits the graph. Tab moves through the actions.
        </p>
        <div class="dag-canvas" style={{ width: `${placed.width}px`, height: `${placed.height}px`, transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})` }}>
          <svg class="dag-edges" width={placed.width} height={placed.height} aria-hidden="true">
            <defs>
              <marker id={marker} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M0,0 L10,5 L0,10 z" />
              </marker>
            </defs>
            {placed.edges.map((edge) => (
              <path key={`${edge.from}->${edge.to}`} d={edge.path} class={`dag-edge edge-${statuses?.[edge.from] ?? 'none'}`} marker-end={`url(#${marker})`} />
            ))}
          </svg>
          {placed.nodes.map((node) => {
            const status = statuses?.[node.id];
            const detail = details?.[node.id];
            return (
              <button
                key={node.id}
                type="button"
                class={`dag-node type-${node.type} ${status ? `status-${status}` : ''}`}
                style={{ left: `${node.left}px`, top: `${node.top}px`, width: `${NODE_WIDTH}px`, height: `${NODE_HEIGHT}px` }}
                data-node-id={node.id}
                data-status={status}
                aria-pressed={selected === node.id}
                title={`${node.label} (${node.id}) · ${node.type}${status ? ` · ${status}` : ''}${detail ? ` · ${detail}` : ''}`}
                onClick={() => onSelect?.(node.id)}
              >
                <span class="dag-node-name">{node.label}</span>
                <span class="dag-node-meta">
                  <span class="dag-node-type">{node.type.replace('_', ' ')}</span>
                  {status && <span class="dag-node-status">{status.replace('_', ' ')}</span>}
                </span>
                {detail && <span class="dag-node-detail">{detail}</span>}
              </button>
            );
          })}
        </div>
      </div>
    </div>
  );
}

/** The action types' colours, as a legend beside a graph. */
export function TypeLegend({ types }: { readonly types: readonly string[] }) {
  return (
    <ul class="legend" aria-label="Action types">
      {[...new Set(types)].sort().map((type) => (
        <li key={type}>
          <span class={`swatch type-${type}`} aria-hidden="true" /> {type.replace('_', ' ')}
        </li>
      ))}
    </ul>
  );
}
