import { serviceCall, transform, type ActionInput } from '../unit/statemachines/support/workflows.ts';

/**
 * A deterministic DAG of `size` actions (at least 20): a long chain and a wide fan-out of 30 % each, then a
 * sparse random part, reading across them. Large enough, it is split into child machines along those pieces.
 * The last action reads the chain's end and the fan-in: `{chain_end: 'chain<n>', fan_in: 'wide0'}`.
 */
export function largeWorkflow(size = 1000): { actions: ActionInput[]; last: string; chainEnd: string } {
  let seed = 7;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const part = Math.floor(size * 0.3);
  const rest = size - 2 - 2 * part;
  const chainEnd = `chain${part - 1}`;
  const actions: ActionInput[] = [serviceCall('start', {})];
  for (let i = 0; i < part; i++) actions.push(serviceCall(`chain${i}`, i === 0 ? { from: '{{start.response.state}}' } : {}, [i === 0 ? 'start' : `chain${i - 1}`]));
  for (let i = 0; i < part; i++) actions.push(serviceCall(`wide${i}`, {}, ['start']));
  actions.push(transform('fan_in', { first: '{{wide0.response.state}}', last: `{{wide${part - 1}.response.state}}` }, Array.from({ length: part }, (_, i) => `wide${i}`)));
  for (let i = 0; i < rest; i++) {
    const deps = new Set<string>();
    for (let j = 0; j < i; j++) if (random() < 2 / (i + 1)) deps.add(`r${j}`);
    if (deps.size === 0) deps.add(i % 2 === 0 ? chainEnd : 'fan_in');
    actions.push(serviceCall(`r${i}`, i === rest - 1 ? { chain_end: `{{${chainEnd}.response.state}}`, fan_in: '{{fan_in.response.first}}' } : {}, [...deps]));
  }
  return { actions, last: `r${rest - 1}`, chainEnd };
}
