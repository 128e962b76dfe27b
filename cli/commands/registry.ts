import { Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import type { ResponseOf } from '../../client/index.ts';
import { collect, jsonObject, positiveInteger } from '../arguments.ts';
import { runCommand, withGlobalOptions } from '../context.ts';
import { shortTime, type Output } from '../output.ts';
import { HEALTH_STATUSES } from '../vocabulary.ts';

type Instance = ResponseOf<'getService'>['instances'][number];

/** `registry list|get|register|deregister`: the services service_call actions find by name. */
export function addRegistryCommands(program: CommandUnknownOpts): void {
  const registry = withGlobalOptions(program.command('registry').description('the services that service_call actions call by name'));

  withGlobalOptions(registry.command('list').description('registered services and their instances, health and circuits')
    .option('--name <service>', 'only this service')
    .addOption(new Option('--status <health>', 'only services with this health').choices(HEALTH_STATUSES))
    .option('--tag <tag>', 'only services with this tag'))
    .action((options, command) =>
      runCommand(command, async ({ api, out }) => {
        const data = await api().call('listServices', { query: { name: options.name, status: options.status, tag: options.tag } });
        if (out.format === 'json') return out.json(data);
        printInstances(out, data.services.flatMap((service) => service.instances));
        out.line(`${data.total} services, ${data.instances} instances`);
      }),
    );

  withGlobalOptions(registry.command('get').description("one service's instances").argument('<service>'))
    .action((name, _options, command) =>
      runCommand(command, async ({ api, out }) => {
        const data = await api().call('getService', { params: { name } });
        if (out.format === 'json') return out.json(data);
        out.line(`${data.name}: ${data.status}`);
        printInstances(out, data.instances);
      }),
    );

  // --url is the service's here: the API's comes from ORCHESTRATOR_URL or `orchestrator --url <api> registry register`.
  withGlobalOptions(registry.command('register').description("register an instance of a service, or renew its registration (the API's URL: ORCHESTRATOR_URL, or --url before `registry`)")
    .requiredOption('--name <service>', 'the name service_call actions use')
    .requiredOption('--url <url>', "the instance's base URL (endpoints are appended to it)")
    .option('--version <version>', "the service's version")
    .option('--instance-id <id>', 'several instances may share a name (default: derived from the URL)')
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .option('--health-path <path>', 'the path health checks GET')
    .option('--openapi-path <path>', "the path of the service's OpenAPI document")
    .option('--ttl <seconds>', 'the instance disappears this long after its last registration', positiveInteger)
    .option('--metadata <json>', 'metadata, a JSON object', jsonObject), ['url'])
    .action((options, command) =>
      runCommand(command, async ({ api, out }) => {
        const data = await api().call('registerService', {
          body: {
            name: options.name,
            url: options.url,
            tags: options.tag ?? [],
            ...(options.version !== undefined ? { version: options.version } : {}),
            ...(options.instanceId !== undefined ? { instance_id: options.instanceId } : {}),
            ...(options.healthPath !== undefined ? { health_path: options.healthPath } : {}),
            ...(options.openapiPath !== undefined ? { openapi_path: options.openapiPath } : {}),
            ...(options.ttl !== undefined ? { ttl_seconds: options.ttl } : {}),
            ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
          },
        });
        if (out.format === 'json') return out.json(data);
        out.line(`registered ${data.name} instance ${data.instance_id} at ${data.url}`);
      }),
    );

  withGlobalOptions(registry.command('deregister').description('remove a service (every instance), or one instance').argument('<service>')
    .option('--instance-id <id>', 'remove this instance only'))
    .action((name, options, command) =>
      runCommand(command, async ({ api, out }) => {
        const data = await api().call('deregisterService', { params: { name }, query: { instance_id: options.instanceId } });
        if (out.format === 'json') return out.json(data);
        out.line(`removed ${data.removed} instance${data.removed === 1 ? '' : 's'} of ${data.name}`);
      }),
    );
}

function printInstances(out: Output, instances: readonly Instance[]): void {
  out.table(
    ['service', 'instance', 'url', 'version', 'health', 'circuit', 'tags', 'updated'],
    instances.map((instance) => [instance.name, instance.instance_id, instance.url, instance.version, instance.health.status, instance.circuit.state, instance.tags.join(','), shortTime(instance.updated_at)]),
  );
}
