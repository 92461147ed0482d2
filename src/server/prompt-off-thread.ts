import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HttpError } from './http-util.js';
import type { PromptCheck, PromptCheckOptions } from './prompt-check.js';
import { unpackCheck, type PackedCheck } from './prompt-transfer.js';

/**
 * Checks (parses and validates) big prompts in one worker thread, so the server's event loop is never blocked for
 * long by a multi-megabyte prompt: it keeps answering other requests and streaming progress meanwhile. Small
 * prompts are checked on the main thread, where they cost less than the trip (see OFF_THREAD_BYTES).
 * The worker starts with the first big prompt and ends with the server.
 */

/** Bodies from this size go to the worker. */
export const OFF_THREAD_BYTES = 256 * 1024;

export interface WorkerRequest {
  id: number;
  body: Uint8Array;
}

export type WorkerAnswer =
  | { id: number; refused: Extract<PromptCheck, { ok: false }> }
  | { id: number; valid: PackedCheck }
  | { id: number; httpError: { status: number; message: string } }
  | { id: number; failed: string };

interface Pending {
  worker: Worker;
  resolve(answer: WorkerAnswer): void;
  reject(error: Error): void;
}

/** The worker's compiled script, next to this module's. */
const WORKER_URL = new URL('./prompt-check-thread.js', import.meta.url);

export class OffThreadChecker {
  /** Whether the worker script exists: run from TypeScript source (in tests) there is none, and prompts are checked inline. */
  static available(): boolean {
    return existsSync(fileURLToPath(WORKER_URL));
  }

  #worker: Worker | undefined;
  readonly #pending = new Map<number, Pending>();
  #next = 0;

  constructor(private readonly options: PromptCheckOptions) {}

  /** The same answer checkPrompt(parseJsonBody(body)) gives. @throws HttpError for a body that is not JSON. */
  async check(body: Uint8Array): Promise<PromptCheck> {
    const id = this.#next++;
    const answer = await new Promise<WorkerAnswer>((resolve, reject) => {
      const worker = this.#start();
      this.#pending.set(id, { worker, resolve, reject });
      // A copy the worker owns: the request's Buffer may share a pooled ArrayBuffer.
      worker.postMessage({ id, body: new Uint8Array(body) } satisfies WorkerRequest);
    });
    if ('refused' in answer) return answer.refused;
    if ('valid' in answer) return unpackCheck(answer.valid);
    if ('httpError' in answer) throw new HttpError(answer.httpError.status, answer.httpError.message);
    throw new Error(`checking the prompt failed: ${answer.failed}`);
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_URL, { workerData: this.options });
    // Idle, it must not keep the process alive; a request waiting on it keeps its connection open anyway.
    worker.unref();
    worker.on('message', (answer: WorkerAnswer) => {
      const pending = this.#pending.get(answer.id);
      this.#pending.delete(answer.id);
      pending?.resolve(answer);
    });
    const fail = (error: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const [id, pending] of this.#pending) {
        if (pending.worker !== worker) continue;
        this.#pending.delete(id);
        pending.reject(error);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the prompt checker stopped (exit code ${code})`)));
    this.#worker = worker;
    return worker;
  }
}
