import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { EXECUTION_TABLE } from '../../adapters/aws/dynamo/execution-table.ts';
import { REGISTRY_TABLE } from '../../adapters/aws/dynamo/registry-table.ts';
import { WORKFLOW_TABLE } from '../../adapters/aws/dynamo/workflow-table.ts';
import { createDesignedTable } from '../constructs/designed-table.ts';

export interface DataStackProps extends StackProps {
  /** Keep tables (deletion protection, RETAIN) when the stack is deleted; false only for throwaway stacks. */
  readonly retainData: boolean;
}

/**
 * Stateful resources only. They live apart from the API so that the API stack can be destroyed, renamed or
 * split again without ever putting a table at risk.
 */
export class DataStack extends Stack {
  readonly workflowsTable: Table;
  readonly registryTable: Table;
  readonly executionsTable: Table;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    this.workflowsTable = createDesignedTable(this, WORKFLOW_TABLE, { retainData: props.retainData });
    this.registryTable = createDesignedTable(this, REGISTRY_TABLE, { retainData: props.retainData });
    this.executionsTable = createDesignedTable(this, EXECUTION_TABLE, { retainData: props.retainData });
  }
}
