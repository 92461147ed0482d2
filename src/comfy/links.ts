/**
 * The one home of ComfyUI's link shapes (docs/comfyui.md §3): the API prompt's `[source id, slot]`
 * and the UI file's links, either v0.4 tuples `[id, origin_id, origin_slot, target_id, target_slot, type]`
 * or v1 objects `{id, origin_id, origin_slot, target_id, target_slot, type}`. Used by the runtime,
 * the ComfyUI Runway import and the editor (so nothing here may use node: modules).
 */

/** A link in the API format is exactly `[source id (string), output slot (integer)]`. */
export type ApiLink = [string, number];

/** ComfyUI's is_link: a two-element list of a string id and an integer slot. */
export function isApiLink(value: unknown): value is ApiLink {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isInteger(value[1]);
}

/** A UI link, whichever version it came from; ids as strings because node ids are compared as strings. */
export interface UiLink {
  id: number;
  originId: string;
  originSlot: number;
  targetId: string;
  targetSlot: number;
  type: unknown;
  /** v1 only: the reroute the link passes through. */
  parentId?: number;
}

/** One saved link (tuple or object) as a UiLink; undefined for a null or malformed entry. */
export function readUiLink(raw: unknown): UiLink | undefined {
  if (Array.isArray(raw)) {
    const [id, originId, originSlot, targetId, targetSlot, type] = raw as unknown[];
    return uiLink(id, originId, originSlot, targetId, targetSlot, type);
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const l = raw as Record<string, unknown>;
  const link = uiLink(l.id, l.origin_id, l.origin_slot, l.target_id, l.target_slot, l.type);
  if (link && typeof l.parentId === 'number') link.parentId = l.parentId;
  return link;
}

function uiLink(id: unknown, originId: unknown, originSlot: unknown, targetId: unknown, targetSlot: unknown, type: unknown): UiLink | undefined {
  const isId = (v: unknown) => typeof v === 'number' || typeof v === 'string';
  if (typeof id !== 'number' || !isId(originId) || !isId(targetId) || typeof originSlot !== 'number' || typeof targetSlot !== 'number') {
    return undefined;
  }
  return { id, originId: String(originId), originSlot, targetId: String(targetId), targetSlot, type };
}

/** A saved `links` array (either version, nulls for deleted links skipped). */
export function readUiLinks(raw: unknown): UiLink[] {
  if (!Array.isArray(raw)) return [];
  return raw.map(readUiLink).filter((link): link is UiLink => link !== undefined);
}

/** Writes links back the way the file had them: tuples for v0.4, objects for v1. Ids that were numbers stay numbers. */
export function writeUiLinks(links: UiLink[], version: unknown): unknown[] {
  const id = (value: string): number | string => (/^-?\d+$/.test(value) ? Number(value) : value);
  if (version === 1) {
    return links.map((l) => ({
      id: l.id, origin_id: id(l.originId), origin_slot: l.originSlot, target_id: id(l.targetId), target_slot: l.targetSlot, type: l.type,
      ...(l.parentId !== undefined ? { parentId: l.parentId } : {}),
    }));
  }
  return links.map((l) => [l.id, id(l.originId), l.originSlot, id(l.targetId), l.targetSlot, l.type]);
}
