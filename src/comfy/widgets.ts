import type { AnyNodeDefinition } from '../engine/define-node.js';
import { paramSpecs } from '../engine/params.js';
import { isControlValue } from './modes.js';
import { emptyRecord } from '../engine/records.js';

/** ComfyUI's positional widgets_values ⇄ our named params (docs/comfyui.md: the inserted control and upload slots). */


/**
 * Maps ComfyUI's positional widgets_values to named params. Skips the control value
 * after a control_after_generate widget and the "upload" value after an image upload
 * widget; both are only skipped when present, so files written without them still load.
 */
export function widgetsToParams(def: AnyNodeDefinition, values: unknown[]): Record<string, unknown> {
  const params: Record<string, unknown> = emptyRecord();
  const specs = paramSpecs(def);
  let cursor = 0;
  specs.forEach((spec, index) => {
    if (cursor >= values.length) return;
    params[spec.name] = values[cursor++];
    if (spec.hints.controlAfterGenerate && isControlValue(values[cursor])) cursor++;
    if (spec.hints.imageUpload && hasExtraSlot(values, cursor, specs.length - index - 1)) cursor++;
  });
  return params;
}

/** The upload slot holds "image"; it is there when more values remain than params. */
function hasExtraSlot(values: unknown[], cursor: number, paramsLeft: number): boolean {
  return cursor < values.length && (values[cursor] === 'image' || values.length - cursor > paramsLeft);
}

/**
 * Named params back to positional widgets_values, inserting the control value and the
 * upload slot the frontend expects. `previous` keeps the control values a file had.
 */
export function paramsToWidgets(def: AnyNodeDefinition, params: Record<string, unknown>, previous?: unknown[]): unknown[] {
  const values: unknown[] = [];
  let cursor = 0;
  const specs = paramSpecs(def);
  specs.forEach((spec, index) => {
    values.push(spec.name in params ? params[spec.name] : spec.default ?? null);
    cursor++;
    if (spec.hints.controlAfterGenerate) {
      const kept = previous?.[cursor];
      values.push(isControlValue(kept) ? kept : 'fixed');
      if (previous && isControlValue(kept)) cursor++;
    }
    if (spec.hints.imageUpload) {
      values.push('image');
      if (previous && hasExtraSlot(previous, cursor, specs.length - index - 1)) cursor++;
    }
  });
  return values;
}
