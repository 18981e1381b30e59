/** Rules files the router's integration tests start instances with. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A ClusterDown mutes the ServiceDown alerts of its cluster (Slack #alerts, pages at P2). */
export const CLUSTER_MUTES_SERVICES = `
defaults:
  slack: { channel: "#alerts" }
  pager: { priority: P2 }
inhibit:
  - name: cluster-down-mutes-services
    source_match: ['alertname="ClusterDown"']
    target_match: ['alertname="ServiceDown"']
    equal: [cluster]
`;

/** `text` written to a rules file of its own in a temporary directory; its path. */
export function rulesFile(text: string, prefix: string): string {
  const path = join(mkdtempSync(join(tmpdir(), `${prefix}-`)), 'rules.yaml');
  writeFileSync(path, text);
  return path;
}
