import { describe, expect, it } from 'vitest';
import { fixedWordsBeside, RESERVED_WORKFLOW_IDS } from '../../../functions/fixed-path-words.ts';
import { RESERVED_SERVICE_NAMES } from '../../../core/registry/registration.ts';
import { createWorkflowService } from '../../../core/workflow/service.ts';
import { definitionInput, notification, parseDefinition } from '../core/support/definitions.ts';
import { fixedClock, InMemoryWorkflowStore } from '../core/support/in-memory-store.ts';

/** Ids that a fixed path of the route table would shadow are never issued; the list comes from the table. */

describe('the fixed path words beside a {parameter}', () => {
  it('are, beside /workflows/{workflow_id}, every fixed word one level under /workflows', () => {
    expect([...RESERVED_WORKFLOW_IDS].sort()).toEqual(['executions', 'from-template', 'health', 'history', 'run', 'search', 'statistics', 'templates']);
  });

  it("are, beside /registry/{name}, exactly the service names the registry refuses", () => {
    expect(fixedWordsBeside('/registry/{name}').sort()).toEqual([...RESERVED_SERVICE_NAMES].sort());
  });

  it('are none where no fixed path competes with the parameter', () => {
    expect(fixedWordsBeside('/workflows/executions/{execution_id}')).toEqual([]);
    expect(fixedWordsBeside('/auth/api-keys/{key_id}')).toEqual([]);
  });
});

describe('a new workflow id', () => {
  const definition = parseDefinition(definitionInput([notification('only', 'hi')]));
  const drawing = (...draws: string[]) => ({ next: () => draws.shift() ?? 'never-reached' });

  it('is drawn again while the generator returns a reserved path word', async () => {
    const service = createWorkflowService({ store: new InMemoryWorkflowStore(), clock: fixedClock('2026-01-01T00:00:00.000Z'), ids: drawing('history', 'templates', 'wf-1'), reservedIds: RESERVED_WORKFLOW_IDS });
    expect((await service.createWorkflow(definition, 'tester')).workflow_id).toBe('wf-1');
  });

  it('is refused, not issued, when the generator returns nothing else', async () => {
    const service = createWorkflowService({ store: new InMemoryWorkflowStore(), clock: fixedClock('2026-01-01T00:00:00.000Z'), ids: { next: () => 'search' }, reservedIds: RESERVED_WORKFLOW_IDS });
    await expect(service.createWorkflow(definition, 'tester')).rejects.toThrow(/reserved path words/);
  });
});
