import { describe, expect, it } from 'vitest';
import { apiToGraph, type ApiPrompt } from '../../../src/comfy/index.js';
import { dependentsOf, indexGraph, markUpstream } from '../../../src/engine/graph-index.js';

const node = (links: Record<string, [string, number]> = {}) => ({ class_type: 'X', inputs: links });

describe('indexGraph', () => {
  it('numbers nodes in file order and links by input, with -1 for a source that is not in the graph', () => {
    const index = indexGraph(apiToGraph({ '1': node(), '2': node({ image: ['1', 0], mask: ['9', 2] }), '3': node({ image: ['2', 1] }) }));
    expect(index.ids).toEqual(['1', '2', '3']);
    expect(Array.from(index.linkStart)).toEqual([0, 0, 2, 3]);
    expect(Array.from(index.linkFrom)).toEqual([0, -1, 1]);
    expect(Array.from(index.linkSlot)).toEqual([0, 2, 1]);
    expect(Array.from(index.linkName, (n) => index.names[n])).toEqual(['image', 'mask', 'image']);
    expect(index.names).toEqual(['image', 'mask']);
    expect(index.numberOf('3')).toBe(2);
    expect(index.numberOf('toString')).toBeUndefined();
  });

  it('says whether the ids are in order and every link runs forward, which lets the plan skip sorting', () => {
    const inOrder = indexGraph(apiToGraph({ '2': node(), '10': node({ a: ['2', 0] }) }));
    expect([inOrder.idsInOrder, inOrder.linksForward]).toEqual([true, true]);
    // "b" before "a" in the file.
    const outOfOrder = indexGraph(apiToGraph({ b: node(), a: node({ x: ['b', 0] }) } as ApiPrompt));
    expect([outOfOrder.idsInOrder, outOfOrder.linksForward]).toEqual([false, true]);
    const backwards = indexGraph(apiToGraph({ '1': node({ a: ['2', 0] }), '2': node() }));
    expect([backwards.idsInOrder, backwards.linksForward]).toEqual([true, false]);
    const selfLink = indexGraph(apiToGraph({ '1': node({ a: ['1', 0] }) }));
    expect(selfLink.linksForward).toBe(false);
  });

  it('shows each node to the visitor once, with its number, in file order', () => {
    const seen: string[] = [];
    indexGraph(apiToGraph({ b: node(), a: node({ x: ['b', 0] }), '1': node() } as ApiPrompt), (graphNode, number) => seen.push(`${number}:${graphNode.id}`));
    // Integer-like keys come first in a JS object's own order, so the "file" order is 1, b, a.
    expect(seen).toEqual(['0:1', '1:b', '2:a']);
  });

  it('lists dependents once per link, in file order, and walks upstream from the targets only', () => {
    const index = indexGraph(apiToGraph({ '1': node(), '2': node({ a: ['1', 0], b: ['1', 0] }), '3': node({ a: ['1', 0] }), '4': node() }));
    const { dependentStart, dependentFrom } = dependentsOf(index);
    expect(Array.from(dependentFrom.subarray(dependentStart[0], dependentStart[1]))).toEqual([1, 1, 2]);
    expect(Array.from(markUpstream(index, [1]))).toEqual([1, 1, 0, 0]);
    // A skipped (cached) node is neither marked nor walked past.
    expect(Array.from(markUpstream(index, [1, 2], Uint8Array.from([0, 1, 0, 0])))).toEqual([1, 0, 1, 0]);
  });
});
