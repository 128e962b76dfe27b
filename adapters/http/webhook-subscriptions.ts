import { randomBytes } from 'node:crypto';
import { parseIp } from './addresses.ts';
import { systemLookup, type LookupAll } from './lookup.ts';
import { judgeConnection, type OutboundPolicy } from './outbound-policy.ts';

/** What a webhook subscription needs from the outside world when it is created: a secret, and a look at its URL. */

/** A new webhook secret: 256 bits from the system's secure random source, 43 base64url characters. */
export function mintWebhookSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The outbound rules' verdict on a webhook URL now, as a connection would get it (outbound-policy.ts): the
 * reason it is refused, or undefined. A name that does not resolve passes (it may later; a delivery will say),
 * and so does any answer that has an allowed address: this is an early refusal of what can never work, such
 * as a private address the allow list does not open, while every delivery is checked again at connect time.
 */
export function createDestinationCheck(policy: OutboundPolicy, lookup: LookupAll = systemLookup): (url: string) => Promise<string | undefined> {
  return async (url) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'it is not a URL';
    }
    const hostname = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(parsed.port) || (parsed.protocol === 'https:' ? 443 : 80);
    let addresses: readonly string[];
    if (parseIp(hostname) !== undefined) addresses = [hostname];
    else {
      try {
        addresses = (await lookup(hostname)).map((entry) => entry.address);
      } catch {
        return undefined;
      }
    }
    const verdict = judgeConnection(policy, hostname, port, addresses);
    return verdict.allowed ? undefined : verdict.reason;
  };
}
