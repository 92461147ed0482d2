import type { ImageServices } from '../nodes/services.js';
import type { ProviderId, ProviderRegistry } from '../providers/provider.js';
import { RUNWAY_UPLOAD_TTL_MS } from '../providers/runway-uploads.js';
import type { UploadJournal } from '../jobs/uploads.js';

/**
 * The image services a run hands its nodes: where fitted copies are cached, how a line reaches the
 * user, and provider uploads that are reused, by content hash, while the provider still holds them.
 */
export function imageServices(options: { providers: ProviderRegistry; fitDir: string; uploads: UploadJournal; notice(line: string): void }): ImageServices {
  return {
    fitDir: options.fitDir,
    notice: options.notice,
    async upload(id: ProviderId, file, signal) {
      const provider = options.providers.get(id);
      if (!provider.upload) throw new Error(`${id} takes no uploads`);
      const baseUrl = provider.baseUrl ?? id;
      const known = file.sha256 ? await options.uploads.find(id, baseUrl, file.sha256) : undefined;
      if (known) return known.uri;
      const uri = await provider.upload(file, signal ? { signal } : {});
      if (file.sha256) await options.uploads.record({ provider: id, baseUrl, sha256: file.sha256, uri, expiresAt: Date.now() + RUNWAY_UPLOAD_TTL_MS });
      return uri;
    },
  };
}
