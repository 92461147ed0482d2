import { describe, expect, it } from 'vitest';
import { bypassSlotIndex, typesFit } from '../../../src/comfy/bypass.js';

/** The frontend's _getBypassSlotIndex, one case per step of the rule (docs/comfyui.md "Subgraphs…" §1). */

const inputs = (...types: string[]) => types.map((type) => ({ type }));

describe('bypassSlotIndex', () => {
  it('a "*" or untyped consumer takes the input in the same slot, else input 0', () => {
    expect(bypassSlotIndex(inputs('MASK', 'IMAGE'), 1, 'IMAGE', '*')).toBe(1);
    expect(bypassSlotIndex(inputs('MASK'), 3, 'IMAGE', '')).toBe(0);
    expect(bypassSlotIndex([], 0, 'IMAGE', '*')).toBeUndefined();
  });

  it('takes the input in the same slot when its type fits both the output and the consumer', () => {
    expect(bypassSlotIndex(inputs('IMAGE', 'IMAGE'), 1, 'IMAGE', 'IMAGE')).toBe(1);
  });

  it('else the first input whose type is exactly the consumer type', () => {
    expect(bypassSlotIndex(inputs('MASK', 'IMAGE', 'IMAGE'), 0, 'IMAGE', 'IMAGE')).toBe(1);
  });

  it('else the first compatible input', () => {
    expect(bypassSlotIndex(inputs('MASK', 'LATENT,IMAGE'), 0, 'IMAGE', 'IMAGE')).toBe(1);
  });

  it('else nothing', () => {
    expect(bypassSlotIndex(inputs('MASK', 'LATENT'), 0, 'IMAGE', 'IMAGE')).toBeUndefined();
  });
});

describe('typesFit', () => {
  it('matches litegraph: any, equal, or sharing one type of a comma list', () => {
    expect(typesFit('*', 'IMAGE')).toBe(true);
    expect(typesFit(undefined, 'IMAGE')).toBe(true);
    expect(typesFit('IMAGE', 'IMAGE')).toBe(true);
    expect(typesFit('image,mask', 'MASK')).toBe(true);
    expect(typesFit('IMAGE', 'VIDEO')).toBe(false);
  });
});
