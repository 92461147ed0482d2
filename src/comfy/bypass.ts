/**
 * Which input of a bypassed node a consumer reads instead, as ComfyUI's frontend decides it
 * (`_getBypassSlotIndex`, docs/comfyui.md "Subgraphs…" §1). One rule for the runtime's converter
 * and the editor's Run, so both wire a bypassed multi-input node the same way.
 */

/** litegraph's isValidConnection: empty or `*` fits anything; comma lists fit when they share a type. */
export function typesFit(a: unknown, b: unknown): boolean {
  const left = typeString(a);
  const right = typeString(b);
  if (left === '' || right === '' || left === '*' || right === '*' || left === right) return true;
  const setA = left.toLowerCase().split(',');
  const setB = right.toLowerCase().split(',');
  return setA.some((type) => setB.includes(type));
}

function typeString(type: unknown): string {
  return type === undefined || type === null || type === 0 ? '' : String(type);
}

/**
 * The index of the bypassed node's input that stands in for its output `outputSlot` (of type
 * `outputType`) when read by an input of type `consumerType`; undefined when none fits.
 * `inputs` are the bypassed node's input slots with their types.
 */
export function bypassSlotIndex(
  inputs: readonly { type?: unknown }[],
  outputSlot: number,
  outputType: unknown,
  consumerType: unknown,
): number | undefined {
  const wanted = typeString(consumerType);
  if (wanted === '' || wanted === '*') return inputs[outputSlot] ? outputSlot : inputs.length > 0 ? 0 : undefined;
  const sameSlot = inputs[outputSlot];
  if (sameSlot && typesFit(sameSlot.type, outputType) && typesFit(sameSlot.type, wanted)) return outputSlot;
  const exact = inputs.findIndex((input) => typeString(input.type) === wanted);
  if (exact !== -1) return exact;
  const compatible = inputs.findIndex((input) => typesFit(input.type, wanted));
  return compatible === -1 ? undefined : compatible;
}
