import { awsServiceProxy } from '../aws-service-proxy.ts';
import { secured } from '../aws-security.ts';
import { awsToolCatalog } from '../aws-tools.ts';
import { createToolHandlers } from '../http/tool-handlers.ts';
import type { ServiceProxy } from '../ecosystem/service-proxy.ts';

// The proxy (the action runner with its registry, outbound rules and secrets) is built on the first call, as the proxies' entries build theirs.
let proxy: ServiceProxy | undefined;
export const handler = createToolHandlers(
  secured({
    tools: awsToolCatalog(),
    get serviceProxy() {
      return (proxy ??= awsServiceProxy());
    },
  }),
).callTool;
