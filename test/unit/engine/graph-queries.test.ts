import { describe, expect, it } from 'vitest';
import type { Graph, GraphNode } from '../../../src/engine/graph.js';
import { consumerIndex, consumersOf, downstreamClosure, hasCycle, upstreamClosure } from '../../../src/engine/graph-queries.js';

function graphOf(edges: Record<string, string[]>): Graph {
  const nodes = new Map<string, GraphNode>();
  for (const [id, from] of Object.entries(edges)) {
    nodes.set(id, { id, type: 'T', params: {}, inputs: Object.fromEntries(from.map((source, i) => [`in${i}`, { from: source, slot: 0 }])) });
  }
  return { nodes };
}

// a → b → d, a → c → d, e alone
const graph = graphOf({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'], e: [] });

describe('graph queries', () => {
  it('consumersOf and consumerIndex agree', () => {
    expect(consumersOf(graph, 'a').map((n) => n.id)).toEqual(['b', 'c']);
    expect(consumerIndex(graph).get('a')!.map((n) => n.id)).toEqual(['b', 'c']);
    expect(consumerIndex(graph).get('d')).toBeUndefined();
  });

  it('upstreamClosure walks back from the targets and stops at skipped nodes', () => {
    expect([...upstreamClosure(graph, ['d'])].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect([...upstreamClosure(graph, ['d'], (id) => id === 'b')].sort()).toEqual(['a', 'c', 'd']);
    expect([...upstreamClosure(graph, ['missing'])]).toEqual([]);
  });

  it('downstreamClosure holds the node and everything after it', () => {
    expect([...downstreamClosure(graph, 'b')].sort()).toEqual(['b', 'd']);
    expect([...downstreamClosure(graph, 'e')]).toEqual(['e']);
  });

  it('hasCycle finds loops (self links and long ones) and ignores links to missing nodes', () => {
    expect(hasCycle(graph)).toBe(false);
    expect(hasCycle(graphOf({ a: ['a'] }))).toBe(true);
    expect(hasCycle(graphOf({ a: ['c'], b: ['a'], c: ['b'], d: [] }))).toBe(true);
    expect(hasCycle(graphOf({ a: ['missing'], b: ['a', 'a'] }))).toBe(false);
    const chain: Record<string, string[]> = { '0': [] };
    for (let i = 1; i < 20_000; i++) chain[String(i)] = [String(i - 1)];
    expect(hasCycle(graphOf(chain))).toBe(false);
    chain['0'] = ['19999'];
    expect(hasCycle(graphOf(chain))).toBe(true);
  });

  it('consumerIndex lists a node reading one source twice once', () => {
    expect(consumerIndex(graphOf({ a: [], b: ['a', 'a'] })).get('a')!.map((n) => n.id)).toEqual(['b']);
  });
});
