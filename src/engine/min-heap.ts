/**
 * A binary min-heap of node numbers: the planner and the executor pick the ready node that comes first
 * in plan order in O(log n), where sorting or scanning the ready list after every step was quadratic.
 * Its items live in an Int32Array of the most it will ever hold (each node is pushed at most once): half the memory
 * of an array of numbers, which matters when a wide graph has tens of thousands of nodes ready at once.
 */
export class MinHeap {
  readonly #items: Int32Array;
  #size = 0;

  constructor(capacity: number) {
    this.#items = new Int32Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(value: number): void {
    const items = this.#items;
    let at = this.#size++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (items[parent]! <= value) break;
      items[at] = items[parent]!;
      at = parent;
    }
    items[at] = value;
  }

  /** The smallest value, removed; undefined when empty. */
  pop(): number | undefined {
    if (this.#size === 0) return undefined;
    const items = this.#items;
    const top = items[0]!;
    const size = --this.#size;
    if (size === 0) return top;
    const last = items[size]!;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && items[right]! < items[left]! ? right : left;
      if (items[child]! >= last) break;
      items[at] = items[child]!;
      at = child;
    }
    items[at] = last;
    return top;
  }
}
