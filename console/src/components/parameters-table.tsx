import type { WorkflowParameter } from '../api/types.ts';

/** A workflow's parameter declarations as a table. */
export function ParametersTable({ parameters, strict }: { readonly parameters: readonly WorkflowParameter[]; readonly strict: boolean }) {
  if (parameters.length === 0) return <p class="muted">This workflow takes no parameters{strict ? ' (and refuses any)' : ''}.</p>;
  return (
    <>
      <div class="table-wrap">
        <table class="data">
          <caption>Parameters{strict ? ' (strict: undeclared parameters are refused)' : ''}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Required</th>
              <th scope="col">Default</th>
              <th scope="col">Allowed values</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {parameters.map((parameter) => (
              <tr key={parameter.name}>
                <th scope="row">
                  <code>{parameter.name}</code>
                </th>
                <td>{parameter.type}</td>
                <td>{parameter.required ? 'yes' : 'no'}</td>
                <td>{parameter.default === undefined ? '—' : <code>{JSON.stringify(parameter.default)}</code>}</td>
                <td>{parameter.enum ? parameter.enum.map((value) => JSON.stringify(value)).join(', ') : '—'}</td>
                <td>{parameter.description ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
