import { describe, expect, it } from 'vitest';
import { apiToGraph, type ApiPrompt } from '../../../src/comfy/index.js';
import { findCycle, formatCyclePath, planGraph } from '../../../src/engine/plan.js';
import { compareIds } from '../../../src/engine/ids.js';

const node = (class_type: string, links: Record<string, string> = {}) => ({
  class_type,
  inputs: Object.fromEntries(Object.entries(links).map(([name, from]) => [name, [from, 0]])),
});

describe('planGraph', () => {
  it('orders dependencies first, ties by numeric id then string id', () => {
    const prompt: ApiPrompt = {
      b: node('X'),
      '10': node('X', { in: '2' }),
      '2': node('X'),
      '9': node('X'),
      a: node('X', { in: '9' }),
      '1': node('X', { in: 'b' }),
    };
    expect(planGraph(apiToGraph(prompt))).toEqual({ order: ['2', '9', '10', 'a', 'b', '1'] });
  });

  it('gives the id order when every link runs forward, and Kahn\'s order as soon as one runs back', () => {
    const forward: ApiPrompt = { '1': node('X'), '2': node('X', { in: '1' }), '3': node('X'), '10': node('X', { a: '3', b: '2' }) };
    expect(planGraph(apiToGraph(forward)).order).toEqual(['1', '2', '3', '10']);
    const back: ApiPrompt = { ...forward, '2': node('X', { in: '10' }), '10': node('X', { a: '3' }) };
    expect(planGraph(apiToGraph(back)).order).toEqual(['1', '3', '10', '2']);
    expect(planGraph(apiToGraph({ '1': node('X', { in: '1' }) }))).toEqual({ order: [], cycle: ['1', '1'] });
  });

  it('ignores links to missing nodes (validation reports them)', () => {
    expect(planGraph(apiToGraph({ '1': node('X', { in: '77' }) })).order).toEqual(['1']);
  });

  it('reports a cycle as a closed path starting at its smallest id', () => {
    const graph = apiToGraph({
      '1': node('Source'),
      '3': node('B', { in: '2', other: '1' }),
      '2': node('A', { in: '4' }),
      '4': node('C', { in: '3' }),
      '5': node('Sink', { in: '4' }),
    });
    const plan = planGraph(graph);
    expect(plan.order).toEqual(['1']);
    expect(plan.cycle).toEqual(['2', '3', '4', '2']);
    expect(formatCyclePath(graph, plan.cycle!)).toBe('2 (A) -> 3 (B) -> 4 (C) -> 2 (A)');
  });

  it('finds a node linked to itself', () => {
    expect(findCycle(apiToGraph({ '7': node('Loop', { in: '7' }) }))).toEqual(['7', '7']);
    expect(findCycle(apiToGraph({ '1': node('X'), '2': node('X', { in: '1' }) }))).toBeUndefined();
  });

  it('compares ids numerically before lexically', () => {
    expect(['10', 'b', '2', 'a', '1:5'].sort(compareIds)).toEqual(['2', '10', '1:5', 'a', 'b']);
  });

  it('counts only ASCII digit strings as numbers, and still orders ties, huge numbers and the empty id', () => {
    // "07" and "7" are both 7: the string order decides. A 400-digit id is Infinity, after every finite number.
    const huge = '9'.repeat(400);
    expect(['7', huge, '07', '', '٣', '1e3', '100'].sort(compareIds)).toEqual(['07', '7', '100', huge, '', '1e3', '٣']);
  });
});
