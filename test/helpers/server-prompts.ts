import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';

/** Shared pieces for tests that run prompts against the server and the emulator. */

export const RUNWAY_KEY = 'key_' + '0'.repeat(128);

export interface Message {
  type: string;
  data: Record<string, unknown>;
}

/** A websocket client that records every message and can wait for one. */
export class EventClient {
  readonly messages: Message[] = [];
  private readonly ws: WebSocket;
  private waiters: { test: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  private constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (raw: Buffer) => {
      const message = JSON.parse(raw.toString('utf8')) as Message;
      this.messages.push(message);
      this.waiters = this.waiters.filter((waiter) => (waiter.test(message) ? (waiter.resolve(message), false) : true));
    });
  }

  static async connect(serverUrl: string, clientId: string): Promise<EventClient> {
    const client = new EventClient(`${serverUrl.replace('http', 'ws')}/ws?clientId=${clientId}`);
    await client.next((m) => m.type === 'status');
    return client;
  }

  next(test: (m: Message) => boolean): Promise<Message> {
    const seen = this.messages.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Resolves when the prompt's stream ends: ComfyUI's `executing {node: null}`. */
  finished(promptId: string): Promise<Message> {
    return this.next((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId);
  }

  of(promptId: string): Message[] {
    return this.messages.filter((m) => m.data.prompt_id === promptId);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A 1280×720 PNG in the input folder. */
export async function writeInputImage(inputDir: string, name = 'frame.png'): Promise<string> {
  const bytes = await sharp({ create: { width: 1280, height: 720, channels: 3, background: { r: 30, g: 90, b: 160 } } }).png().toBuffer();
  await writeFile(join(inputDir, name), bytes);
  return name;
}

/** The five-node pipeline in API format. */
export function fiveNodePrompt(image: string, options: { prompt?: string; prefix?: string; interval?: number } = {}): Record<string, unknown> {
  return {
    '1': { class_type: 'LoadImage', inputs: { image } },
    '2': { class_type: 'ValidateImage', inputs: { image: ['1', 0] } },
    '3': {
      class_type: 'RunwayI2V',
      inputs: {
        image: ['2', 0],
        provider: 'runway',
        model: 'gen4_turbo',
        promptText: options.prompt ?? 'slow dolly in',
        ratio: '1280:720',
        duration: 5,
        seed: 7,
        watermark: false,
      },
    },
    '4': { class_type: 'Poll', inputs: { task: ['3', 0], interval_s: options.interval ?? 0.05, timeout_s: 120 } },
    '5': { class_type: 'SaveVideo', inputs: { video: ['4', 0], filename_prefix: options.prefix ?? 'test/clip', format: 'auto', codec: 'auto' } },
  };
}
