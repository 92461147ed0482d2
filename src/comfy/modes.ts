/**
 * ComfyUI's node modes and widget value control (docs/comfyui.md §2–3), in one place for the runtime,
 * the ComfyUI Runway import and the editor.
 */

/** litegraph's node modes as ComfyUI saves them: 0 always, 2 muted ("never"), 4 bypassed. */
export const MODE_ALWAYS = 0;
export const MODE_MUTED = 2;
export const MODE_BYPASS = 4;

/** Muted and bypassed nodes never run and are never in the API prompt. */
export function isInactiveMode(mode: unknown): boolean {
  return mode === MODE_MUTED || mode === MODE_BYPASS;
}

/** Frontend-only node types that never execute and are never in the API prompt. */
export const DISPLAY_ONLY_TYPES: ReadonlySet<string> = new Set(['Note', 'MarkdownNote']);
/** The reroute node (the older, node-based kind; v1 files also have native reroutes on links). */
export const REROUTE_TYPE = 'Reroute';
/** The frontend's widget-to-input node; its value is pushed into its targets and it never runs. */
export const PRIMITIVE_TYPE = 'PrimitiveNode';

/** Types that are never a node of their own at run time. */
export function isVirtualType(type: string): boolean {
  return DISPLAY_ONLY_TYPES.has(type) || type === REROUTE_TYPE || type === PRIMITIVE_TYPE;
}

/** The control values the frontend writes after a control_after_generate widget. */
export const CONTROL_VALUES: readonly string[] = ['fixed', 'increment', 'decrement', 'randomize'];

export function isControlValue(value: unknown): value is string {
  return typeof value === 'string' && CONTROL_VALUES.includes(value);
}

/** The widgets the frontend adds that are never sent in the API prompt. */
export const UI_ONLY_WIDGETS: ReadonlySet<string> = new Set(['control_after_generate', 'upload']);

/** A seed's next value after a queued prompt, as the frontend applies its control value (default "after"). */
export function nextControlledValue(value: number, control: string, min = 0, max = 4294967295, random = Math.random): number {
  if (control === 'increment') return Math.min(max, value + 1);
  if (control === 'decrement') return Math.max(min, value - 1);
  if (control === 'randomize') return min + Math.floor(random() * (Math.min(max, 2 ** 32 - 1) - min + 1));
  return value;
}
