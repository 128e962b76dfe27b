import { serviceCall, transform, type ActionInput } from '../unit/statemachines/support/workflows.ts';

/** A deterministic 1,000-action DAG: a long chain, a wide fan-out and a sparse random part, read across pieces. */
export function largeWorkflow(): ActionInput[] {
  let seed = 7;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const actions: ActionInput[] = [serviceCall('start', {})];
  for (let i = 0; i < 300; i++) actions.push(serviceCall(`chain${i}`, i === 0 ? { from: '{{start.response.state}}' } : {}, [i === 0 ? 'start' : `chain${i - 1}`]));
  for (let i = 0; i < 300; i++) actions.push(serviceCall(`wide${i}`, {}, ['start']));
  actions.push(transform('fan_in', { first: '{{wide0.response.state}}', last: '{{wide299.response.state}}' }, Array.from({ length: 300 }, (_, i) => `wide${i}`)));
  for (let i = 0; i < 398; i++) {
    const deps = new Set<string>();
    for (let j = 0; j < i; j++) if (random() < 2 / (i + 1)) deps.add(`r${j}`);
    if (deps.size === 0) deps.add(i % 2 === 0 ? 'chain299' : 'fan_in');
    actions.push(serviceCall(`r${i}`, i === 397 ? { chain_end: '{{chain299.response.state}}', fan_in: '{{fan_in.response.first}}' } : {}, [...deps]));
  }
  return actions;
}

