import { DEFAULT_TENANT, type Principal } from '../../core/auth/model.ts';
import type { AuditRecord, AuditTrail, Clock, IdGenerator } from '../../core/ports.ts';

/** What a record says of the request itself, whoever refused or carried it out. */
export interface AuditedRequest {
  readonly action: string;
  /** `METHOD /path template`. */
  readonly route: string;
  readonly targets: readonly string[];
  readonly requestId: string;
  readonly sourceIp: string;
  readonly userAgent?: string | null;
}

const MAX_USER_AGENT_LENGTH = 512;

/**
 * One audit record, built the same way by the handlers' middleware, the local gate and the Lambda authorizer.
 * Without a verified principal (a refused credential) the actor is the source address.
 */
export function auditRecord(
  stamp: { readonly ids: IdGenerator; readonly clock: Clock },
  request: AuditedRequest,
  principal: Principal | undefined,
  outcome: number | null,
  reason?: string,
): AuditRecord {
  return {
    audit_id: stamp.ids.next(),
    time: stamp.clock.now(),
    actor: principal?.subject ?? request.sourceIp,
    method: principal?.method ?? 'anonymous',
    roles: [...(principal?.roles ?? [])],
    tenant: principal?.tenant ?? DEFAULT_TENANT,
    action: request.action,
    route: request.route,
    targets: [...request.targets],
    outcome,
    request_id: request.requestId,
    source_ip: request.sourceIp,
    ...(request.userAgent ? { user_agent: request.userAgent.slice(0, MAX_USER_AGENT_LENGTH) } : {}),
    ...(reason === undefined ? {} : { reason }),
  };
}

/** The ids a request's path names, in order: the first targets of its record. */
export function pathIds(pathParameters: Readonly<Record<string, string | undefined>> | null): string[] {
  return Object.values(pathParameters ?? {}).filter((value): value is string => typeof value === 'string');
}

/** A refusal is recorded best effort: failing to record it must not change the answer the caller gets. */
export async function recordRefusal(audit: AuditTrail, record: AuditRecord, log: ((entry: Record<string, unknown>) => void) | undefined): Promise<void> {
  await audit.append(record).catch((error: unknown) => {
    log?.({ level: 'error', message: 'audit record of a refused request not written', route: record.route, error: String(error) });
  });
}
