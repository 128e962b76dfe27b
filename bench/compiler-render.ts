import { STEP_FUNCTIONS_LIMITS } from '../statemachines/limits.ts';
import { DENSE_EDGE_PROBABILITY, SPARSE_EDGES_PER_NODE } from './compiler-graphs.ts';
import { GRAPH_MIX, MODE_LABELS, MODES, STG_DIRECTORY, type CompilerSection, type Mode } from './compiler.ts';
import { kilobytes, table, verdict, type Cell } from './stats.ts';

/** The compiler section of the report (section 4): 4a random DAGs, 4b STG, 4c transitions, 4d compile time and size. */

const fixed = (value: number, digits = 3) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const percent = (share: number) => `${Math.round(share * 100)} %`;

export function renderCompilerSection(section: CompilerSection): string {
  return [
    `4. WORKFLOW COMPILER (seed ${section.seed} for 4a, +2 for 4c, +3 for 4d). Ratios are makespan / critical path with the true durations and NO duration hints`,
    `   (1.000 = no concurrency lost). "lossless" is what compileWorkflow does now (losslessStructure: exact series-parallel pieces + dependency gates;`,
    `   makespan = max over actions of start + duration, starts from simulatedStarts); "SP-ization (before)" is seriesParallelStructure(nodes), what it did before.`,
    renderRandomDags(section),
    '',
    renderStg(section),
    '',
    renderTransitions(section),
    '',
    renderCompile(section),
    `  Sub-sections took ${Object.entries(section.subsectionSeconds).map(([name, seconds]) => `${name} ${seconds} s`).join(', ')}.`,
  ].join('\n');
}

function renderRandomDags(section: CompilerSection): string {
  const dags = section.randomDags;
  const rows: Cell[][] = [];
  for (const group of dags.groups) {
    MODES.forEach((mode, index) => {
      const stats = group.ratios[mode];
      let check = '';
      if (group.group === 'series-parallel' && mode !== 'levels') check = stats.exact === group.graphs ? 'ok (=1.00)' : 'OVER';
      if (group.group === 'all' && mode === 'lossless') check = `mean ${verdict(dags.losslessMeanMet)}, max ${verdict(dags.losslessMaxMet)}`;
      rows.push([
        index === 0 ? group.group : '',
        index === 0 ? group.graphs : '',
        index === 0 ? `${percent(group.gatedShare.mean)} (max ${percent(group.gatedShare.max)})` : '',
        MODE_LABELS[mode],
        fixed(stats.mean),
        fixed(stats.p50),
        fixed(stats.p95),
        fixed(stats.max),
        `${stats.exact}/${group.graphs}`,
        check,
      ]);
    });
  }
  const times = (mode: 'lossless' | 'sp') =>
    dags.structureMs
      .filter((time) => time.mode === mode)
      .map((time) => `${time.group} ${time.median} / ${time.p95} / ${time.max}`)
      .join('; ');
  const invalid = MODES.filter((mode) => dags.invalidStructures[mode] > 0).map((mode) => `${mode} ${dags.invalidStructures[mode]}`);
  return [
    `4a. Random DAGs: ${dags.graphs} graphs, ${dags.actions.min}..${dags.actions.max} actions (mean ${dags.actions.mean}), durations uniform 1..10 or log-normal;`,
    `    ${GRAPH_MIX.map((mix) => `${Math.round(mix.share * 100)} % ${mix.family}`).join(', ')} (sparse p = ${SPARSE_EDGES_PER_NODE.join('..')} / n, dense p = ${DENSE_EDGE_PROBABILITY.join('..')}).`,
    `    Targets (lossless): mean <= ${dags.targets.mean} over all graphs, none above ${dags.targets.max}; series-parallel graphs exactly 1.00 with no gate.`,
    table(['group', 'graphs', 'gated actions', 'structure', 'mean', 'p50', 'p95', 'max', '=1.00', 'check'], rows),
    `  Lossless: ${dags.losslessOverMax} graph(s) above ${dags.targets.max}; graphs with an action starting after its dependencies' latest finish: ${dags.lateStarts};` +
      ` structures adding an order the dependencies do not: ${dags.addedOrdering}.`,
    `  Series-parallel graphs: with a gate ${dags.seriesParallelGated}; lost concurrency: lossless ${dags.seriesParallelLosses.lossless}, SP-ization ${dags.seriesParallelLosses.sp}.`,
    `  compileWorkflow(...).gates = losslessStructure(...).gates plus outputs read across branches: ${dags.gateChecks.map((check) => `${check.family} ${check.equal}/${check.checked}`).join(', ')}` +
      ` ${dags.gateChecks.every((check) => check.equal === check.checked) ? '(all equal)' : '(DIFFER)'}.`,
    `  Worst graphs: ${dags.worst.map((worst) => `${worst.mode} ${fixed(worst.ratio)} (${worst.family}, ${worst.actions} actions, ${worst.edges} edges)`).join('; ')}.`,
    `  Structures checked (each action once, every dependency ordered or gated): ${invalid.length === 0 ? 'all valid' : `INVALID: ${invalid.join(', ')}`}.`,
    `  ms per graph (median / p95 / max): losslessStructure ${times('lossless')} (${dags.structureSeconds.lossless} s in all);`,
    `  seriesParallelStructure ${times('sp')} (${dags.structureSeconds.sp} s in all).`,
  ].join('\n');
}

function renderStg(section: CompilerSection): string {
  const rows = section.stg.map((file) => [
    file.file,
    file.tasks,
    file.edges,
    file.criticalPath,
    `${file.gatedActions} (${percent(file.gatedActions / file.tasks)})`,
    fixed(file.ratios.lossless),
    fixed(file.ratios.sp),
    fixed(file.ratios.levels),
    verdict(file.losslessWithinTarget),
    file.structureMs.lossless,
    file.structureMs.sp,
    file.timingRuns,
  ]);
  const within = (mode: Mode) => section.stg.filter((file) => file.ratios[mode] <= section.stgTarget).length;
  return [
    `4b. Standard Task Graph Set (${STG_DIRECTORY}, costs from the files, no hints; target: lossless <= ${section.stgTarget} on every file)${section.stg.length === 0 ? ': NO FILES FOUND, skipped' : ''}`,
    table(['file', 'tasks', 'edges', 'crit. path', 'gated', 'lossless', 'SP before', 'levels', `lossless <= ${section.stgTarget}`, 'ms lossless', 'ms SP', 'runs'], rows),
    `  Files within ${section.stgTarget}: ${MODES.map((mode) => `${MODE_LABELS[mode]} ${within(mode)}/${section.stg.length}`).join(', ')}.`,
    `  Structures valid: ${section.stg.every((file) => file.validStructures) ? 'all' : 'NOT ALL'}; lossless adds no ordering: ${section.stg.every((file) => file.addsNoOrdering) ? 'all' : 'NOT ALL'};` +
      ` late starts: ${section.stg.reduce((sum, file) => sum + file.lateStarts, 0)}. ms = median wall time of the structure alone (full compile in 4d).`,
  ].join('\n');
}

function renderTransitions(section: CompilerSection): string {
  const rows = section.transitions.map((shape) => [
    shape.shape,
    shape.actions,
    shape.parallelStates,
    shape.gatedActions,
    shape.gateStatesEntered,
    shape.reportStatesEntered,
    shape.runnerArrivals,
    shape.transitions,
    shape.walked === shape.transitions && shape.predicted === shape.transitions ? 'same' : `${shape.walked} / ${shape.predicted} (differs)`,
    fixed(shape.perAction, 3),
    shape.before === undefined ? '' : shape.before === shape.perAction ? `${fixed(shape.before)} (same)` : `${fixed(shape.before)} (CHANGED)`,
    shape.everyActionRanOnce ? 'yes' : `NO${shape.error ? `: ${shape.error}` : ''}`,
    shape.duplicateStateNames.length === 0 ? 'none' : `${shape.duplicateStateNames.length} DUPLICATE`,
    verdict(shape.withinTarget),
  ]);
  const random = section.transitions.filter((shape) => shape.key.startsWith('random'));
  return [
    `4c. Billed state transitions of one successful run (every action once; aws-local-stepfunctions StateEntered events, gates served in process as the local runtime does:`,
    `    a "<W>: gate" waits for its release, "<P>: report" states and service calls' gate_waiters arrive at the gates; target <= ${section.transitionsTarget} per action)`,
    table(['shape', 'actions', 'Parallels', 'gated', 'gate states', 'report states', 'runner arrivals', 'run: entered', 'walk / predicted', 'per action', 'before lossless', 'all ran once', 'state names', 'check'], rows),
    `  walk = the definition walked along the success path; predicted = 1 Task per action + 1 per Parallel, gate and report state. Series-parallel shapes get no gate`,
    `  and must cost what they did before (bench/results/latest.json): ${section.transitions.every((shape) => shape.before === undefined || (shape.before === shape.perAction && shape.gatedActions === 0)) ? 'they do' : 'they DO NOT'}.`,
    `  Random DAGs: ${random.map((shape) => `${shape.shape} ${fixed(shape.perAction, 2)} = 1 + ${fixed(shape.parallelStates / shape.actions, 2)} (Parallels) + ${fixed((shape.gateStatesEntered + shape.reportStatesEntered) / shape.actions, 2)} (gates, reports)`).join('; ')}:` +
      ` target ${section.transitionsTarget} ${random.every((shape) => shape.withinTarget) ? 'met' : 'NOT MET (each gated action adds its gate state)'}.`,
  ].join('\n');
}

function renderCompile(section: CompilerSection): string {
  const rows = section.compile.map((point) => [
    point.workflow,
    point.actions,
    point.edges,
    point.runs,
    fixed(point.medianMs, 1),
    fixed(point.msPer1000Actions, 0),
    point.kind === 'stg' ? verdict(point.msPer1000Actions < section.compileTargetMsPer1000) : '',
    point.gatedActions,
    point.parallelStates,
    point.states,
    point.machines,
    kilobytes(point.totalBytes),
    kilobytes(point.definitionBytes),
    point.bytesPerAction,
    point.overLimit ? 'OVER 1 MB' : point.underQuarterLimit ? '<= 256 KB' : '<= 1 MB',
    point.duplicateStateNames === 0 ? 'none' : `${point.duplicateStateNames} DUPLICATE`,
  ]);
  const stg = section.compile.filter((point) => point.kind === 'stg');
  const typical = section.compile.find((point) => point.workflow === 'random sparse (100)') ?? section.compile[0]!;
  const notes = section.compile.filter((point) => point.note).map((point) => `${point.workflow}`);
  return [
    `4d. Compile time (full compileWorkflow, median of the runs after a warm-up compile; target < ${section.compileTargetMsPer1000} ms per 1,000 actions on the STG files) and definition size`,
    table(['workflow', 'actions', 'edges', 'runs', 'median ms', 'ms/1000 actions', 'check', 'gated', 'Parallels', 'states', 'machines', 'KB total', 'KB largest', 'bytes/action', 'largest', 'state names'], rows),
    `  STG files under ${section.compileTargetMsPer1000} ms per 1,000 actions: ${stg.filter((point) => point.msPer1000Actions < section.compileTargetMsPer1000).length}/${stg.length}.` +
      ` Growth 100 -> 1,000 random actions: time(1000) / time(100) / 10 = ${fixed(section.linearity, 2)} (1.00 = linear).`,
    `  machines = 1 + the child state machines compileWorkflow split the workflow into (bytes/action counts all of them). A machine over Step Functions' 1 MB limit:` +
      ` ${section.compile.filter((point) => point.overLimit).map((point) => `${point.workflow} ${kilobytes(point.definitionBytes)} KB`).join(', ') || 'none'}; workflows over 1 MB in all:` +
      ` ${section.compile.filter((point) => point.totalBytes > STEP_FUNCTIONS_LIMITS.definitionBytes).map((point) => `${point.workflow} ${kilobytes(point.totalBytes)} KB`).join(', ') || 'none'}.`,
    `  At ~${typical.bytesPerAction} bytes per service_call action (${typical.workflow}), about ${Math.floor(section.definitionBytesTarget / typical.bytesPerAction)} actions fit in 256 KB and ${Math.floor(STEP_FUNCTIONS_LIMITS.definitionBytes / typical.bytesPerAction)} in 1 MB.` +
      ` Bytes per action by state role: ${Object.entries(typical.bytesPerActionByRole).sort((a, b) => b[1] - a[1]).map(([role, bytes]) => `${role} ${bytes}`).join(', ')}.`,
    ...(notes.length > 0 ? [`  Over the API's action limit (actions parsed one by one, compiler timing only): ${notes.join(', ')}.`] : []),
  ].join('\n');
}
