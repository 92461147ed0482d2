import { describe, expect, it } from 'vitest';
import type { Graph, GraphNode } from '../../../src/engine/graph.js';
import { consumerIndex, consumersOf, downstreamClosure, upstreamClosure } from '../../../src/engine/graph-queries.js';

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
});
