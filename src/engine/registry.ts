import type { AnyNodeDefinition } from './define-node.js';
import { RuntimeError } from './errors.js';

/** The node types a run may use, looked up by their stable type name. */
export class NodeRegistry {
  readonly #byType = new Map<string, AnyNodeDefinition>();

  /** @throws RuntimeError when two definitions share a type name. */
  constructor(defs: AnyNodeDefinition[]) {
    for (const def of defs) {
      if (this.#byType.has(def.type)) throw new RuntimeError(`Node type "${def.type}" is defined twice.`);
      this.#byType.set(def.type, def);
    }
  }

  get(type: string): AnyNodeDefinition | undefined {
    return this.#byType.get(type);
  }

  /** In registration order. */
  list(): AnyNodeDefinition[] {
    return [...this.#byType.values()];
  }
}
