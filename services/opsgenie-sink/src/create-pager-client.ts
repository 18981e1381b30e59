import type { PagerClient, PagerClientOptions, PagerProvider } from './pager-client';
import { createJsmClient } from './providers/jsm';
import { createOpsgenieClient } from './providers/opsgenie';

/** PAGER_PROVIDER picks the implementation; everything above this line is provider-agnostic. */
export function createPagerClient(provider: PagerProvider, opts: PagerClientOptions): PagerClient {
  return provider === 'jsm' ? createJsmClient(opts) : createOpsgenieClient(opts);
}
