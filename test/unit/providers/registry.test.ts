import { describe, expect, it } from 'vitest';
import { CometApiProvider } from '../../../src/providers/cometapi.js';
import { createProvider, createProviderRegistry } from '../../../src/providers/registry.js';
import { RunComfyProvider } from '../../../src/providers/runcomfy.js';
import { RunwayProvider } from '../../../src/providers/runway.js';
import { RuntimeError } from '../../../src/engine/errors.js';
import type { HttpClient } from '../../../src/http/types.js';

const http: HttpClient = { request: () => Promise.reject(new Error('no network in this test')) };

describe('provider registry', () => {
  it('creates the adapter for each id', () => {
    const config = { baseUrl: 'http://127.0.0.1:1', apiKey: 'k', http };
    expect(createProvider('runcomfy', config)).toBeInstanceOf(RunComfyProvider);
    expect(createProvider('cometapi', config)).toBeInstanceOf(CometApiProvider);
    expect(createProvider('runway', config)).toBeInstanceOf(RunwayProvider);
  });

  it('names the environment variable when the key is missing', () => {
    const registry = createProviderRegistry({ env: { RUNWAYML_API_SECRET: '  ' }, http });
    expect(() => registry.get('runway')).toThrow(RuntimeError);
    expect(() => registry.get('runway')).toThrow('Runway API needs an API key: set the RUNWAYML_API_SECRET environment variable.');
    expect(() => registry.get('cometapi')).toThrow(/COMETAPI_KEY/);
  });

  it('returns one adapter per provider and base URL', () => {
    const registry = createProviderRegistry({ env: { RUNCOMFY_API_TOKEN: 'tok', RUNCOMFY_BASE_URL: 'http://127.0.0.1:9' }, http });
    const fromEnv = registry.get('runcomfy');
    expect(registry.get('runcomfy')).toBe(fromEnv);
    expect(registry.get('runcomfy', 'http://127.0.0.1:10')).not.toBe(fromEnv);
    expect(fromEnv.info.id).toBe('runcomfy');
  });
});
