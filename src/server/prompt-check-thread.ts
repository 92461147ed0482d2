import { parentPort, workerData } from 'node:worker_threads';
import { messageOf } from '../engine/errors.js';
import { createNodeRegistry } from '../nodes/index.js';
import { HttpError, parseJsonBody } from './http-util.js';
import { checkPrompt, type PromptCheckOptions } from './prompt-check.js';
import { packCheck } from './prompt-transfer.js';
import type { WorkerAnswer, WorkerRequest } from './prompt-off-thread.js';

/** The worker thread of ./prompt-off-thread.ts: parses and validates big prompts away from the server's event loop. */

const port = parentPort!;
const options = workerData as PromptCheckOptions;
const registry = createNodeRegistry();

port.on('message', (request: WorkerRequest) => {
  void answer(request).then(({ message, transfer }) => port.postMessage(message, transfer));
});

async function answer({ id, body }: WorkerRequest): Promise<{ message: WorkerAnswer; transfer: ArrayBuffer[] }> {
  try {
    const check = await checkPrompt(parseJsonBody(body), registry, options);
    if (!check.ok) return { message: { id, refused: check }, transfer: [] };
    const { packed, transfer } = packCheck(check);
    return { message: { id, valid: packed }, transfer };
  } catch (error) {
    if (error instanceof HttpError) return { message: { id, httpError: { status: error.status, message: error.message } }, transfer: [] };
    return { message: { id, failed: messageOf(error) }, transfer: [] };
  }
}
