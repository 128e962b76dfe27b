import { describe, expect, it } from 'vitest';
import { WORKFLOW_STATUSES } from '../../core/workflow/definition.ts';
import { ListServicesQuery } from '../../functions/http/registry-schemas.ts';
import * as vocabulary from '../../cli/vocabulary.ts';

describe("the CLI's copies of the API's filter values", () => {
  it('are the workflow statuses the definition schema has', () => {
    expect(vocabulary.WORKFLOW_STATUSES).toEqual(WORKFLOW_STATUSES);
  });

  it('are the health statuses the registry listing filters by', () => {
    expect(vocabulary.HEALTH_STATUSES).toEqual(ListServicesQuery.shape.status.unwrap().options);
  });
});
