import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface View {
  readonly x: number;
  readonly y: number;
  readonly scale: number;
}

const MIN_SCALE = 0.15;
const MAX_SCALE = 2.5;
const STEP = 1.25;
const PAN = 60;
/** Below this zoom node names are too small to read. */
const READABLE = 0.6;

const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));

/**
 * Pan and zoom of a content box of `width` x `height` inside the element `viewport` refers to: the wheel
 * zooms around the pointer, dragging pans, arrow keys pan, + and - zoom, 0 fits; the same moves are offered
 * as functions for buttons.
 */
export function usePanZoom(width: number, height: number) {
  const viewport = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<View>({ x: 0, y: 0, scale: 1 });
  const drag = useRef<{ pointer: number; x: number; y: number } | undefined>(undefined);

  const fit = useCallback(() => {
    const element = viewport.current;
    if (!element) return;
    const box = { width: element.clientWidth, height: element.clientHeight };
    if (box.width === 0 || box.height === 0) return;
    const scale = clamp(Math.min(box.width / width, box.height / height, 1), MIN_SCALE, MAX_SCALE);
    setView({ scale, x: (box.width - width * scale) / 2, y: Math.max(0, (box.height - height * scale) / 2) });
  }, [width, height]);

  /**
   * The first view: the whole graph when it fits at a readable size; otherwise readable, from its start (the
   * left, where a run begins), and Fit shows it all.
   */
  const start = useCallback(() => {
    const element = viewport.current;
    if (!element || element.clientWidth === 0) return;
    const whole = Math.min(element.clientWidth / width, element.clientHeight / height, 1);
    if (whole >= READABLE) return fit();
    setView({ scale: READABLE, x: 8, y: Math.max(8, (element.clientHeight - height * READABLE) / 2) });
  }, [width, height, fit]);

  useEffect(start, [start]);

  /** Zooms by `factor` keeping the point (px, py) of the viewport where it is (default: its centre). */
  const zoom = useCallback((factor: number, px?: number, py?: number) => {
    const element = viewport.current;
    const cx = px ?? (element ? element.clientWidth / 2 : 0);
    const cy = py ?? (element ? element.clientHeight / 2 : 0);
    setView((current) => {
      const scale = clamp(current.scale * factor, MIN_SCALE, MAX_SCALE);
      const ratio = scale / current.scale;
      return { scale, x: cx - (cx - current.x) * ratio, y: cy - (cy - current.y) * ratio };
    });
  }, []);

  const pan = useCallback((dx: number, dy: number) => setView((current) => ({ ...current, x: current.x + dx, y: current.y + dy })), []);

  // A wheel listener must be non-passive to keep the page from scrolling while the graph zooms.
  useEffect(() => {
    const element = viewport.current;
    if (!element) return undefined;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const rect = element.getBoundingClientRect();
      zoom(Math.exp(-event.deltaY * 0.0015), event.clientX - rect.left, event.clientY - rect.top);
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    return () => element.removeEventListener('wheel', onWheel);
  }, [zoom]);

  const handlers = {
    onPointerDown(event: PointerEvent) {
      // Nodes are buttons: a press on one selects it, it does not start a drag.
      if (event.button !== 0 || (event.target instanceof HTMLElement && event.target.closest('button'))) return;
      drag.current = { pointer: event.pointerId, x: event.clientX, y: event.clientY };
      (event.currentTarget as HTMLElement).setPointerCapture(event.pointerId);
    },
    onPointerMove(event: PointerEvent) {
      const start = drag.current;
      if (!start || start.pointer !== event.pointerId) return;
      pan(event.clientX - start.x, event.clientY - start.y);
      drag.current = { ...start, x: event.clientX, y: event.clientY };
    },
    onPointerUp(event: PointerEvent) {
      if (drag.current?.pointer === event.pointerId) drag.current = undefined;
    },
    onKeyDown(event: KeyboardEvent) {
      const moves: Readonly<Record<string, () => void>> = {
        ArrowLeft: () => pan(PAN, 0),
        ArrowRight: () => pan(-PAN, 0),
        ArrowUp: () => pan(0, PAN),
        ArrowDown: () => pan(0, -PAN),
        '+': () => zoom(STEP),
        '=': () => zoom(STEP),
        '-': () => zoom(1 / STEP),
        '0': fit,
      };
      const move = moves[event.key];
      if (!move || event.ctrlKey || event.metaKey || event.altKey) return;
      event.preventDefault();
      move();
    },
  };

  return {
    viewport,
    view,
    handlers,
    zoomIn: () => zoom(STEP),
    zoomOut: () => zoom(1 / STEP),
    fit,
    pan,
  };
}
