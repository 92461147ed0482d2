import { PROVIDERS } from '../../src/providers/catalog.js';
import type {
  CallOptions,
  CancelOutcome,
  ProviderId,
  ProviderInfo,
  ProviderRegistry,
  SubmitRequest,
  SubmitResult,
  TaskStatus,
  VideoProvider,
} from '../../src/providers/provider.js';

/** A step of a scripted task: a status, or a function of the call number (may throw or abort). */
export type ScriptStep = TaskStatus | ((call: number, options?: CallOptions) => TaskStatus | Promise<TaskStatus>);

/**
 * A provider that plays a scripted sequence of task statuses (the last one repeats)
 * and records every call, so tests can assert how many creates and cancels happened.
 */
export class FakeProvider implements VideoProvider {
  readonly info: ProviderInfo;
  readonly submits: SubmitRequest[] = [];
  readonly getTaskCalls: string[] = [];
  readonly cancels: string[] = [];
  cancelOutcome: CancelOutcome = 'cancelled';
  /** Set to act like an adapter that reports where it submits. */
  baseUrl?: string;
  #script: ScriptStep[];

  constructor(id: ProviderId = 'runway', script: ScriptStep[] = [{ state: 'succeeded', videoUrls: ['https://cdn.example/v.mp4'] }]) {
    this.info = PROVIDERS[id];
    this.#script = script;
  }

  async submit(request: SubmitRequest, options?: CallOptions): Promise<SubmitResult> {
    options?.signal?.throwIfAborted();
    this.submits.push(request);
    return { taskId: `task-${this.submits.length}` };
  }

  async getTask(taskId: string, options?: CallOptions): Promise<TaskStatus> {
    options?.signal?.throwIfAborted();
    this.getTaskCalls.push(taskId);
    const call = this.getTaskCalls.length;
    const step = this.#script[Math.min(call, this.#script.length) - 1];
    if (step === undefined) throw new Error('FakeProvider has an empty script');
    return typeof step === 'function' ? step(call, options) : step;
  }

  async cancel(taskId: string, options?: CallOptions): Promise<CancelOutcome> {
    options?.signal?.throwIfAborted();
    this.cancels.push(taskId);
    return this.cancelOutcome;
  }
}

/** Serves fake providers by id; records the base URLs asked for. */
export class FakeProviderRegistry implements ProviderRegistry {
  readonly requestedBaseUrls: (string | undefined)[] = [];
  readonly #providers: Map<ProviderId, FakeProvider>;

  constructor(...providers: FakeProvider[]) {
    this.#providers = new Map(providers.map((p) => [p.info.id, p]));
  }

  get(id: ProviderId, baseUrl?: string): VideoProvider {
    this.requestedBaseUrls.push(baseUrl);
    const provider = this.#providers.get(id);
    if (!provider) throw new Error(`no fake provider for ${id}`);
    return provider;
  }
}
