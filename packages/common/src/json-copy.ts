/**
 * A copy of a JSON value (what a sender built: an event's data, a notification's blocks) with every string passed
 * through `text`, and under each object key what `keyed` says instead of its value (null: the value, copied the same
 * way). Imports nothing, so the router's pure core can take it alone (`@alertbus/common/src/json-copy`).
 */

/** JSON.parse may give an object an own `__proto__` key: it is copied as a key, not as a prototype. */
function setOwn(target: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else (target as Record<string | number, unknown>)[key] = value;
}

/** Iterative, so no nesting depth (a sender chooses it) can overflow the stack; the input is not changed. */
export function copyJson(value: unknown, text: (s: string) => string, keyed: (key: string) => string | null = () => null): unknown {
  const holder: Record<string, unknown> = {};
  const work: Array<[unknown, Record<string, unknown> | unknown[], string | number]> = [[value, holder, 'value']];
  while (work.length > 0) {
    const [src, target, key] = work.pop()!;
    if (typeof src === 'string') setOwn(target, key, text(src));
    else if (Array.isArray(src)) {
      const copy = new Array<unknown>(src.length);
      setOwn(target, key, copy);
      for (let i = 0; i < src.length; i++) work.push([src[i], copy, i]);
    } else if (src !== null && typeof src === 'object') {
      const copy: Record<string, unknown> = {};
      setOwn(target, key, copy);
      for (const [k, v] of Object.entries(src)) {
        const instead = keyed(k);
        setOwn(copy, k, instead); // in the source's key order; a value filled in later keeps its place
        if (instead === null) work.push([v, copy, k]);
      }
    } else setOwn(target, key, src);
  }
  return holder.value;
}
