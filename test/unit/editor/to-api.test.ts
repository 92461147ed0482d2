import { LGraph, LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import { describe, expect, it } from 'vitest';
import { graphToApiPrompt } from '../../../src/editor/to-api.js';

/** The editor's API conversion on a real litegraph graph (no canvas needed). */

class Source extends LGraphNode {
  constructor() {
    super('Source');
    this.addOutput('IMAGE', 'IMAGE');
  }
}
class Pass extends LGraphNode {
  constructor() {
    super('Pass');
    this.addInput('image', 'IMAGE');
    this.addOutput('IMAGE', 'IMAGE');
  }
}
class Sink extends LGraphNode {
  constructor() {
    super('Sink');
    this.addInput('image', 'IMAGE');
  }
}
LiteGraph.registerNodeType('test/Source', Source);
LiteGraph.registerNodeType('test/Pass', Pass);
LiteGraph.registerNodeType('test/Sink', Sink);

function chain(passMode: number) {
  const graph = new LGraph();
  const [source, pass, sink] = ['test/Source', 'test/Pass', 'test/Sink'].map((type) => {
    const node = LiteGraph.createNode(type)!;
    graph.add(node);
    return node;
  }) as [LGraphNode, LGraphNode, LGraphNode];
  source.connect(0, pass, 0);
  pass.connect(0, sink, 0);
  pass.mode = passMode;
  return { graph, source, pass, sink };
}

describe('graphToApiPrompt', () => {
  it('links through a bypassed node to its input of the same type', () => {
    const { graph, source, pass, sink } = chain(4);
    const prompt = graphToApiPrompt(graph);
    expect(prompt[String(pass.id)]).toBeUndefined();
    expect(prompt[String(sink.id)]!.inputs.image).toEqual([String(source.id), 0]);
  });

  it('drops a muted node and leaves its consumer unlinked', () => {
    const { graph, pass, sink } = chain(2);
    const prompt = graphToApiPrompt(graph);
    expect(prompt[String(pass.id)]).toBeUndefined();
    expect(prompt[String(sink.id)]!.inputs.image).toBeUndefined();
  });

  it('keeps an active node and its links', () => {
    const { graph, pass, sink } = chain(0);
    expect(graphToApiPrompt(graph)[String(sink.id)]!.inputs.image).toEqual([String(pass.id), 0]);
  });
});
