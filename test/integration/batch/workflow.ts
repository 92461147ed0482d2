import type { Emulator } from '../../../src/emulator/index.js';

/**
 * Many-branch workflows in ComfyUI's API format: one image, validated once, feeding `branches`
 * independent RunwayI2V → Poll → SaveVideo chains. Branch i's nodes are 10+3i, 11+3i, 12+3i.
 */

export interface BranchOptions {
  provider?: 'runway' | 'cometapi' | 'runcomfy';
  model?: 'gen4_turbo' | 'gen3a_turbo';
  ratio?: string;
  duration?: number;
  /** The prompt of branch i (the emulator reads "[fail:CODE]" and "[slow]" in it). */
  prompt?: (i: number) => string;
  /** Poll's [interval_s, timeout_s] for branch i. */
  poll?: (i: number) => [number, number];
}

export const i2vNode = (i: number) => String(10 + 3 * i);
export const pollNode = (i: number) => String(11 + 3 * i);

export function branches(count: number, options: BranchOptions = {}): Record<string, unknown> {
  const workflow: Record<string, unknown> = {
    '1': { class_type: 'LoadImage', inputs: { image: 'images/sunset.jpg', upload: 'image' } },
    '2': { class_type: 'ValidateImage', inputs: { image: ['1', 0] } },
  };
  for (let i = 0; i < count; i++) {
    const [interval, timeout] = options.poll?.(i) ?? [0.05, 60];
    workflow[i2vNode(i)] = {
      class_type: 'RunwayI2V',
      inputs: {
        provider: options.provider ?? 'runway',
        model: options.model ?? 'gen4_turbo',
        promptText: options.prompt?.(i) ?? `Branch ${i}: the harbour lights come on`,
        ratio: options.ratio ?? '1280:720',
        duration: options.duration ?? 5,
        seed: i,
        watermark: false,
        image: ['2', 0],
      },
    };
    workflow[pollNode(i)] = { class_type: 'Poll', inputs: { interval_s: interval, timeout_s: timeout, task: [i2vNode(i), 0] } };
    workflow[String(12 + 3 * i)] = { class_type: 'SaveVideo', inputs: { filename_prefix: `batch/branch_${i}`, format: 'auto', codec: 'auto', video: [pollNode(i), 0] } };
  }
  return workflow;
}

/** Jobs the emulator created (a create refused with 429/503 made none; one answered 500 after committing did). */
export const acceptedCreates = (emulator: Emulator) => emulator.jobs().length;
/** Cancels sent: Runway DELETEs and RunComfy cancel POSTs. */
export const cancels = (emulator: Emulator) => emulator.log.filter((entry) => entry.kind === 'cancel').length;
