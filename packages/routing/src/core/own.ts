/**
 * A map's own entry for a key that came from outside (a label, a severity, a user's group): `map[key]` alone finds
 * `Object.prototype`'s members for `constructor`, `__proto__`, `toString`…, a function where a string is expected.
 */
export function own<V>(map: Readonly<Record<string, V>> | undefined, key: string): V | undefined {
  return map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}
