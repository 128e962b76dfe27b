import { expect } from 'vitest';
import { ServiceCallError, type ServiceCallFailure } from '../../functions/workers/service-call-errors.ts';

/** The error a service call fails with, its message (JSON: what the dead letter keeps) parsed. */
export async function failure(promise: Promise<unknown>): Promise<{ error: ServiceCallError; details: ServiceCallFailure }> {
  const error: unknown = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(ServiceCallError);
  const serviceError = error as ServiceCallError;
  return { error: serviceError, details: JSON.parse(serviceError.message) as ServiceCallFailure };
}
