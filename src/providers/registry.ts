import { RuntimeError } from '../engine/errors.js';
import type { HttpClient } from '../http/types.js';
import { PROVIDERS } from './catalog.js';
import { CometApiProvider } from './cometapi.js';
import type { ProviderConfig, ProviderId, ProviderRegistry, VideoProvider } from './provider.js';
import { RunComfyProvider } from './runcomfy.js';
import { RunwayProvider } from './runway.js';

/** Builds the adapter for a provider id. */
export function createProvider(id: ProviderId, config: ProviderConfig): VideoProvider {
  switch (id) {
    case 'runcomfy':
      return new RunComfyProvider(config);
    case 'cometapi':
      return new CometApiProvider(config);
    case 'runway':
      return new RunwayProvider(config);
  }
}

/** Where a provider is reached when no base URL is given: `baseUrlEnv`, else the published default. */
export function baseUrlFor(id: ProviderId, env: NodeJS.ProcessEnv): string {
  const info = PROVIDERS[id];
  return env[info.baseUrlEnv]?.trim() || info.defaultBaseUrl;
}

/**
 * Adapters configured from the environment: the key from `keyEnv`, the base URL from the
 * argument, else `baseUrlEnv`, else the published default. Keys never leave this object.
 */
export function createProviderRegistry(options: { env: NodeJS.ProcessEnv; http: HttpClient }): ProviderRegistry {
  const cache = new Map<string, VideoProvider>();
  return {
    get(id: ProviderId, baseUrl?: string): VideoProvider {
      const info = PROVIDERS[id];
      if (!info) throw new RuntimeError(`Unknown provider "${String(id)}"; expected one of ${Object.keys(PROVIDERS).join(', ')}.`);
      const apiKey = options.env[info.keyEnv]?.trim();
      if (!apiKey) throw new RuntimeError(`${info.displayName} needs an API key: set the ${info.keyEnv} environment variable.`);
      const base = baseUrl || baseUrlFor(id, options.env);
      const cacheKey = `${id} ${base} ${apiKey}`;
      let provider = cache.get(cacheKey);
      if (!provider) {
        provider = createProvider(id, { baseUrl: base, apiKey, http: options.http });
        cache.set(cacheKey, provider);
      }
      return provider;
    },
  };
}
