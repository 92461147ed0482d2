import type { z } from 'zod';
import { defineNode as defineEngineNode, type CacheCheckContext, type NodeContext, type NodeDefinition } from '../engine/define-node.js';
import type { HttpClient } from '../http/types.js';
import type { JournalPort } from '../jobs/port.js';
import type { ProviderRegistry } from '../providers/provider.js';

/** What this node pack hands its nodes at run time; the app builds it once per run (src/app/run.ts). */
export interface NodeServices {
  http: HttpClient;
  providers: ProviderRegistry;
  /** The job journal: RunwayI2V submits through it (re-attach, never pay twice); Poll and SaveVideo record outcomes. */
  journal?: JournalPort;
  /** A URL a provider can fetch this local file from (served for the run at a signed, expiring URL under --public-url). */
  hostFile(path: string): Promise<string>;
}

export type PackContext = NodeContext<NodeServices>;
export type PackCacheCheck = CacheCheckContext<NodeServices>;

/** The engine's defineNode with this pack's services typed in. */
export function defineNode<P extends z.ZodObject>(definition: NodeDefinition<P, NodeServices>): NodeDefinition<P, NodeServices> {
  return defineEngineNode(definition);
}
