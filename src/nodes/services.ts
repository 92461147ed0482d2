import type { z } from 'zod';
import { defineNode as defineEngineNode, type CacheCheckContext, type NodeContext, type NodeDefinition } from '../engine/define-node.js';
import type { HttpClient } from '../http/types.js';
import type { JournalPort } from '../jobs/port.js';
import type { JobSlots } from '../jobs/slots.js';
import type { ProviderId, ProviderRegistry } from '../providers/provider.js';

/** What this node pack hands its nodes at run time; the app builds it once per run (src/app/run.ts). */
export interface NodeServices {
  http: HttpClient;
  providers: ProviderRegistry;
  /** The job journal: RunwayI2V submits through it (re-attach, never pay twice); Poll and SaveVideo record outcomes. */
  journal?: JournalPort;
  /** Per-provider limits on jobs in flight (--max-jobs); RunwayI2V takes a slot, Poll gives it back. */
  jobSlots?: JobSlots;
  /** --retry-failed: a job that failed with a final code (e.g. SAFETY.INPUT.*) is bought again. */
  retryFailed?: boolean;
  /** A URL a provider can fetch this local file from (served for the run at a signed, expiring URL under --public-url). */
  hostFile(path: string): Promise<string>;
  /** Fitting and uploading local images; optional so a bare context still runs (copies then go to the temp folder). */
  images?: ImageServices;
}

/** What RunwayI2V needs to send a local image that does not fit as it is. */
export interface ImageServices {
  /** Where fitted copies are cached by content hash. */
  fitDir: string;
  /** Uploads the file to the provider (Runway's ephemeral uploads), reusing a live upload of the same content. */
  upload(provider: ProviderId, file: { path: string; sha256: string; filename: string; contentType: string }, signal?: AbortSignal): Promise<string>;
  /** One line the user should see whatever the verbosity ("phone.jpg 4032×3024 5.9 MB → 2048×1536 0.9 MB for runway"). */
  notice(line: string): void;
}

export type PackContext = NodeContext<NodeServices>;
export type PackCacheCheck = CacheCheckContext<NodeServices>;

/** The engine's defineNode with this pack's services typed in. */
export function defineNode<P extends z.ZodObject>(definition: NodeDefinition<P, NodeServices>): NodeDefinition<P, NodeServices> {
  return defineEngineNode(definition);
}
