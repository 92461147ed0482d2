/**
 * Objects keyed by strings from a workflow (node ids, input names) must not inherit: with a
 * plain `{}`, the id "toString" or "constructor" finds Object.prototype's member and a lookup
 * that should miss returns a function. Null-prototype records have no inherited keys at all.
 */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The parent of every fieldRecord: an empty object that itself inherits nothing. */
const FieldRecord = function FieldRecord() {} as unknown as new () => Record<string, unknown>;
FieldRecord.prototype = Object.create(null) as object;

/**
 * emptyRecord for the many small records with the same few keys that a run makes per node (a node's inputs):
 * nothing inherited either ("toString" or "__proto__" is an ordinary key), but unlike Object.create(null) an object V8
 * keeps in fast mode, one shape for every record with the same keys, a third of the bytes.
 */
export function fieldRecord<T>(): Record<string, T> {
  return new FieldRecord() as Record<string, T>;
}
