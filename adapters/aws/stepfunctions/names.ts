import { createHash } from 'node:crypto';

/**
 * How workflows map to Step Functions resources. Plain functions with no SDK import, so the CDK app (IAM
 * resource patterns, the status listener's event rule) and the engine derive names from the same rules.
 *
 * Each workflow is one state machine, `<prefix>-<workflow_id>`; each workflow version one published state
 * machine version; the alias `live` follows the newest deployed version (sub-workflows call it). A workflow
 * too large for one machine also has a machine per part (ADR 0016), `<prefix>_<workflow_id>_<part>`.
 */

/** Step Functions limits state machine names to 80 characters. */
export const MAX_STATE_MACHINE_NAME_LENGTH = 80;
/** Leaves at least 30 characters of the workflow id (plus a hash) in the name. */
export const MAX_NAME_PREFIX_LENGTH = 40;
/** The alias that follows a workflow's newest deployed version. */
export const LIVE_ALIAS = 'live';

const PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9-]*$/;

/** Throws when `prefix` cannot start state machine names (letters, digits, hyphens; at most 40). */
export function checkNamePrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix) || prefix.length > MAX_NAME_PREFIX_LENGTH) {
    throw new Error(`state machine name prefix must be letters, digits and hyphens, starting with a letter, at most ${MAX_NAME_PREFIX_LENGTH} characters; got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/**
 * `<prefix>-<workflow_id>`. Workflow ids may be up to 128 characters; a name that would pass Step Functions'
 * 80 keeps the id's start and adds 8 hex digits of its SHA-256, so it stays unique and recognisable.
 * Workflow ids are letters, digits, `_` and `-`: what Step Functions allows in names of logged machines.
 */
export function stateMachineName(prefix: string, workflowId: string): string {
  const name = `${prefix}-${workflowId}`;
  if (name.length <= MAX_STATE_MACHINE_NAME_LENGTH) return name;
  const hash = createHash('sha256').update(workflowId).digest('hex').slice(0, 8);
  const keep = MAX_STATE_MACHINE_NAME_LENGTH - prefix.length - 1 - hash.length - 1;
  return `${prefix}-${workflowId.slice(0, keep)}-${hash}`;
}

/** Hex digits of the workflow id's SHA-256 in a part machine's name when the id does not fit whole. */
const PART_HASH_LENGTH = 16;

/**
 * The state machine of part `part` of a split workflow (ADR 0016): `<prefix>_<workflow_id>_<part>`. The `_`
 * after the prefix keeps parts out of the roots' namespace: every `<prefix>-<x>` is the machine of workflow
 * `x` (workflow ids take every character a logged machine's name may have), and no prefix holds a `_`. The
 * part is what follows the last `_`, so two workflows' parts never share a name. A name that would pass 80
 * characters keeps the id's start and adds 16 hex digits of its SHA-256, and is exactly 80 long, while a
 * name kept whole is shorter than 80: the two forms never meet.
 */
export function partStateMachineName(prefix: string, workflowId: string, part: number): string {
  const suffix = `_${part}`;
  const name = `${prefix}_${workflowId}${suffix}`;
  if (name.length < MAX_STATE_MACHINE_NAME_LENGTH) return name;
  const hash = createHash('sha256').update(workflowId).digest('hex').slice(0, PART_HASH_LENGTH);
  // `<prefix>_`, the id's start, `-`, the hash, `_<part>`: 80 characters.
  const keep = MAX_STATE_MACHINE_NAME_LENGTH - prefix.length - 1 - 1 - hash.length - suffix.length;
  return `${prefix}_${workflowId.slice(0, Math.max(0, keep))}-${hash}${suffix}`;
}

/** The state name the compiler gives the Task that starts part `n` (statemachines/split.ts): `part <n>`. */
export const PART_STATE = /^part [1-9][0-9]*$/;

/** Where the state machines live. */
export interface StateMachineLocation {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

export function stateMachineArn(location: StateMachineLocation, name: string): string {
  return `arn:${location.partition}:states:${location.region}:${location.account}:stateMachine:${name}`;
}

export function aliasArn(location: StateMachineLocation, name: string, alias: string = LIVE_ALIAS): string {
  return `${stateMachineArn(location, name)}:${alias}`;
}

/** Executions of a standard state machine, whether started on the machine, a version or an alias. */
export function executionArn(location: StateMachineLocation, name: string, executionName: string): string {
  return `arn:${location.partition}:states:${location.region}:${location.account}:execution:${name}:${executionName}`;
}

/**
 * A version's description: the workflow version, then a fingerprint of what was published (the compiled
 * definition, the execution mode and the resources substituted into it). Looking a version up by both means
 * a workflow deleted and created again under the same id, a changed compiler or a redeployed runner never
 * runs a stale definition: it gets a version of its own.
 */
export function versionDescription(workflowVersion: number, fingerprint: string, variant?: 'rerun'): string {
  // A variant's description is never taken for the version itself (workflowVersionOf does not read it).
  return `${workflowVersion}${variant ? ` ${variant}` : ''} (definition ${fingerprint})`;
}

/** The workflow version a state machine version was published for, or undefined for one this engine did not publish. */
export function workflowVersionOf(description: string | undefined): number | undefined {
  const match = description === undefined ? null : /^([1-9][0-9]*) \(definition [0-9a-f]+\)$/.exec(description);
  return match ? Number(match[1]) : undefined;
}
