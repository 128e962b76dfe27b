import { routes, type RouteName, type RouteSpec } from './routes.ts';

/**
 * The fixed words of the route table's paths that sit where `template` has its last `{parameter}`:
 * `/workflows/{workflow_id}` -> health, search, statistics, templates, from-template, executions, history.
 * API Gateway (and the local server) gives a fixed word precedence over a parameter, so an id equal to one of
 * them could never be read at `template`: such ids are never issued (workflows) or accepted (service names).
 * Derived from the table, so a new fixed path is covered the day it is added.
 */
export function fixedWordsBeside(template: string, table: Readonly<Record<RouteName, RouteSpec>> = routes): string[] {
  const segments = template.split('/');
  const position = segments.findLastIndex((segment) => /^\{\w+\}$/.test(segment));
  if (position < 0) throw new Error(`${template} has no {parameter}`);
  const prefix = segments.slice(0, position);
  const words = Object.values(table).flatMap((route) => {
    const candidate = route.path.split('/');
    const word = candidate[position];
    const samePrefix = prefix.every((segment, index) => candidate[index] === segment);
    return samePrefix && word !== undefined && !word.startsWith('{') ? [word] : [];
  });
  return [...new Set(words)];
}

/** What a workflow's id may never be: the fixed words beside `/workflows/{workflow_id}`. */
export const RESERVED_WORKFLOW_IDS: readonly string[] = fixedWordsBeside('/workflows/{workflow_id}');
