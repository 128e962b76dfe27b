/** The subset of Amazon States Language (JSONPath) the compiler emits. */

export type JsonObject = Record<string, unknown>;

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

export interface Catcher {
  ErrorEquals: string[];
  ResultPath?: string | null;
  Next: string;
}

interface Flow {
  Next?: string;
  End?: true;
  Comment?: string;
}

export interface TaskState extends Flow {
  Type: 'Task';
  Resource: string;
  Parameters?: JsonObject;
  ResultSelector?: JsonObject;
  ResultPath?: string | null;
  TimeoutSeconds?: number;
  Retry?: Retrier[];
  Catch?: Catcher[];
}

export interface PassState extends Flow {
  Type: 'Pass';
  InputPath?: string;
  Parameters?: JsonObject;
  Result?: unknown;
  ResultPath?: string | null;
}

export interface WaitState extends Flow {
  Type: 'Wait';
  Seconds?: number;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
}

export interface ParallelState extends Flow {
  Type: 'Parallel';
  Branches: StateMachineDefinition[];
  ResultSelector?: JsonObject;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
}

export interface MapState extends Flow {
  Type: 'Map';
  ItemsPath: string;
  MaxConcurrency?: number;
  ItemSelector?: JsonObject;
  ItemProcessor: StateMachineDefinition & { ProcessorConfig: { Mode: 'INLINE' } };
  ResultSelector?: JsonObject;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
}

export type ChoiceRule = JsonObject & { Next?: string };

export interface ChoiceState {
  Type: 'Choice';
  Choices: ChoiceRule[];
  Default?: string;
  Comment?: string;
}

export interface FailState {
  Type: 'Fail';
  Error?: string;
  Cause?: string;
  ErrorPath?: string;
  CausePath?: string;
  Comment?: string;
}

export interface SucceedState {
  Type: 'Succeed';
  Comment?: string;
}

export type State = TaskState | PassState | WaitState | ParallelState | MapState | ChoiceState | FailState | SucceedState;

export interface StateMachineDefinition {
  Comment?: string;
  StartAt: string;
  States: Record<string, State>;
  TimeoutSeconds?: number;
}

/** Resources the compiled definition refers to by placeholder; each runtime fills in its own. */
export const Placeholder = {
  actionRunner: '${ActionRunnerFunctionArn}',
  eventBus: '${EventBusName}',
  deadLetterQueue: '${DeadLetterQueueUrl}',
  /** Another workflow's state machine (its live alias, or a pinned version). */
  workflow: (workflowId: string, version?: number) => `\${Workflow:${workflowId}${version === undefined ? '' : `:${version}`}}`,
} as const;

export const Resource = {
  lambdaInvoke: 'arn:aws:states:::lambda:invoke',
  /** The callback pattern: the state waits until its task token is sent back (SendTaskSuccess). */
  lambdaInvokeCallback: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
  putEvents: 'arn:aws:states:::events:putEvents',
  sqsSendMessage: 'arn:aws:states:::sqs:sendMessage',
  startExecutionSync: 'arn:aws:states:::states:startExecution.sync:2',
  /** Amazon Bedrock's InvokeModel, natively (no Lambda): `ModelId` and the model's own request `Body`. */
  bedrockInvokeModel: 'arn:aws:states:::bedrock:invokeModel',
} as const;
