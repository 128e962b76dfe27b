import * as z from 'zod';
import { JsonValue } from '../../core/workflow/definition.ts';
import { ServiceRegistrationInputSchema } from '../../core/registry/registration.ts';

/** Request and response shapes of the registry API. The route table, the handlers and OpenAPI read these. */

/** `POST /registry/register`: the name, the base URL and optional health/OpenAPI paths, version and metadata. */
export const RegisterServiceBody = ServiceRegistrationInputSchema;

export const ServiceResponse = z.object({
  name: z.string(),
  url: z.string().describe('Base URL; endpoints of service_call actions are appended to it'),
  health_path: z.string(),
  openapi_path: z.string().optional(),
  version: z.string().optional(),
  metadata: z.record(z.string(), JsonValue),
  registered_at: z.string().describe('When the name was first registered'),
  updated_at: z.string().describe('When the registration was last replaced'),
});

export const ServiceListResponse = z.object({
  services: z.array(ServiceResponse),
  total: z.number().int(),
});
