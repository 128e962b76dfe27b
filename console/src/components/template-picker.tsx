import { useEffect, useId, useState } from 'preact/hooks';
import { useClient } from '../api/context.ts';
import { WORKFLOW_STATUSES, type Template } from '../api/types.ts';
import { useAsync } from '../hooks/use-async.ts';
import { navigate } from '../router.ts';
import { ErrorBox, Loading } from './feedback.tsx';

/** The services a template's service calls name (directly or inside a foreach), which a customization may rename. */
function servicesOf(definition: Readonly<Record<string, unknown>>): string[] {
  const found = new Set<string>();
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      if (record['action_type'] === 'service_call' && typeof record['config'] === 'object' && record['config'] !== null) {
        const service = (record['config'] as Record<string, unknown>)['service'];
        if (typeof service === 'string') found.add(service);
      }
      Object.values(record).forEach(visit);
    }
  };
  visit(definition['actions']);
  return [...found].sort();
}

/** Start from a built-in template: create it at once with customizations, or copy it into the editor. */
export function TemplatePicker({ initial, onEdit }: { readonly initial?: string | undefined; readonly onEdit: (definition: unknown) => void }) {
  const client = useClient();
  const templates = useAsync(() => client.call('listTemplates'), []);
  const [chosen, setChosen] = useState<string | undefined>(initial);
  const ids = useId();
  const template = templates.data?.templates.find((candidate) => candidate.name === chosen);

  return (
    <section class="card" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Start from a template</h2>
      <ErrorBox error={templates.error} title="Could not list the templates" onRetry={templates.reload} />
      {!templates.data && templates.error === undefined && <Loading what="templates" />}
      {templates.data && (
        <fieldset class="template-list">
          <legend>Template</legend>
          {templates.data.templates.map((candidate) => (
            <label key={candidate.name} class={`template-option ${candidate.name === chosen ? 'chosen' : ''}`}>
              <input type="radio" name={`${ids}-template`} value={candidate.name} checked={candidate.name === chosen} onChange={() => setChosen(candidate.name)} />
              <span>
                <strong>{candidate.title}</strong> <span class="muted">({candidate.category}, {candidate.action_count} actions)</span>
                <span class="small">{candidate.description}</span>
              </span>
            </label>
          ))}
        </fieldset>
      )}
      {template && <Customize key={template.name} template={template} onEdit={onEdit} />}
    </section>
  );
}

function Customize({ template, onEdit }: { readonly template: Template; readonly onEdit: (definition: unknown) => void }) {
  const client = useClient();
  const ids = useId();
  const services = servicesOf(template.definition);
  const definitionName = typeof template.definition['name'] === 'string' ? template.definition['name'] : template.title;
  const [form, setForm] = useState({ name: definitionName, description: '', tags: '', status: 'active', services: {} as Record<string, string> });
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => setError(undefined), [form]);

  const tags = form.tags
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
  const renames = Object.fromEntries(Object.entries(form.services).filter(([from, to]) => to.trim() !== '' && to.trim() !== from));
  const create = async () => {
    setBusy(true);
    try {
      const status = WORKFLOW_STATUSES.find((candidate) => candidate === form.status) ?? 'active';
      const created = await client.call('createFromTemplate', {
        body: {
          template_name: template.name,
          customizations: { name: form.name.trim(), status, ...(form.description ? { description: form.description } : {}), ...(tags.length ? { tags } : {}), ...(Object.keys(renames).length ? { services: renames } : {}) },
        },
      });
      navigate(`/workflows/${encodeURIComponent(created.workflow_id)}`);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <form
      class="customize"
      onSubmit={(event) => {
        event.preventDefault();
        void create();
      }}
    >
      <h3>Customize “{template.title}”</h3>
      <div class="grid-2">
        <div class="field">
          <label for={`${ids}-name`}>Name</label>
          <input id={`${ids}-name`} required maxLength={200} value={form.name} onInput={(event) => setForm({ ...form, name: event.currentTarget.value })} />
        </div>
        <div class="field">
          <label for={`${ids}-status`}>Status</label>
          <select id={`${ids}-status`} value={form.status} onChange={(event) => setForm({ ...form, status: event.currentTarget.value })}>
            {WORKFLOW_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={`${ids}-description`}>Description</label>
          <input id={`${ids}-description`} maxLength={4000} value={form.description} placeholder={template.description} onInput={(event) => setForm({ ...form, description: event.currentTarget.value })} />
        </div>
        <div class="field">
          <label for={`${ids}-tags`}>Tags</label>
          <input id={`${ids}-tags`} value={form.tags} aria-describedby={`${ids}-tags-help`} onInput={(event) => setForm({ ...form, tags: event.currentTarget.value })} />
          <span id={`${ids}-tags-help`} class="help">
            Separated by commas
          </span>
        </div>
        {services.map((service) => (
          <div class="field" key={service}>
            <label for={`${ids}-svc-${service}`}>
              Service <code>{service}</code> is called
            </label>
            <input id={`${ids}-svc-${service}`} placeholder={service} value={form.services[service] ?? ''} onInput={(event) => setForm({ ...form, services: { ...form.services, [service]: event.currentTarget.value } })} />
          </div>
        ))}
      </div>
      <ErrorBox error={error} title="Not created" />
      <div class="button-row">
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create from template'}
        </button>
        <button type="button" class="secondary" onClick={() => onEdit({ ...template.definition, name: form.name, ...(form.description ? { description: form.description } : {}), ...(tags.length ? { tags } : {}) })}>
          Copy into the editor below
        </button>
      </div>
    </form>
  );
}
