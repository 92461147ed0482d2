/**
 * Objects keyed by strings from a workflow (node ids, input names) must not inherit: with a
 * plain `{}`, the id "toString" or "constructor" finds Object.prototype's member and a lookup
 * that should miss returns a function. Null-prototype records have no inherited keys at all.
 */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
