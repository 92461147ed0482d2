import type { ProviderCall, ReadResponse } from './requests.js';
import { joinUrl, send } from './requests.js';
import type { CallOptions, ProviderConfig, ProviderInfo } from './provider.js';

/** What the three adapters share: their identity, where they send, and how. */
export abstract class ProviderBase {
  /** Where tasks are created, so a TaskHandle can be polled at the same server later. */
  get baseUrl(): string {
    return this.config.baseUrl;
  }
  protected readonly call: ProviderCall;

  /** `headers` go on every request (the Runway format needs X-Runway-Version). */
  constructor(
    readonly info: ProviderInfo,
    protected readonly config: ProviderConfig,
    private readonly headers?: Record<string, string>,
  ) {
    this.call = { http: config.http, info, apiKey: config.apiKey };
  }

  /** One request to `path` under the base URL; `kind` decides whether it may be retried. */
  protected send(method: 'GET' | 'POST' | 'DELETE', path: string, options: CallOptions, kind: 'create' | 'poll', body?: string): Promise<ReadResponse> {
    return send(this.call, {
      method,
      url: joinUrl(this.config.baseUrl, path),
      ...(this.headers ? { headers: this.headers } : {}),
      kind,
      provider: this.info.id,
      ...(body !== undefined ? { body } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
      ...(options.onAttempt ? { onAttempt: options.onAttempt } : {}),
    });
  }
}
