import { DescribeEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DependencyProbe } from '../../../core/ports.ts';
import { timedCheck } from '../dependency-check.ts';

/** An event bus's reachability: DescribeEventBus (read-only; it fails when the bus was deleted). */
export function eventBusProbe(busName: string, name: string, client: EventBridgeClient = new EventBridgeClient({})): DependencyProbe {
  return {
    name,
    kind: 'event_bus',
    check: (timeoutMs) => timedCheck(timeoutMs, (abortSignal) => client.send(new DescribeEventBusCommand({ Name: busName }), { abortSignal })),
  };
}
