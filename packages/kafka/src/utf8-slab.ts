/**
 * A string's UTF-8 bytes, as `Buffer.from(s)` gives them, written into a shared slab of SLAB_BYTES instead of Node's
 * 8 kB pool: a writer of many kilobyte-sized JSON values (the router's outputs and states, a storm summary update of
 * about 4 kB each) used up that pool every few values, and making a new one was a quarter of `Buffer.from`'s time.
 * A slab stays in memory while any value written into it does (until the transaction holding them is written).
 */
const SLAB_BYTES = 256 * 1024;

let slab = Buffer.allocUnsafeSlow(0);
let used = 0;

export function utf8Bytes(s: string): Buffer {
  // A UTF-16 unit is at most 3 bytes of UTF-8 (a surrogate pair, two units, is 4): room for the longest encoding.
  const most = s.length * 3;
  if (most > slab.length - used) {
    slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, most));
    used = 0;
  }
  const start = used;
  used += slab.write(s, start, 'utf8');
  return slab.subarray(start, used);
}
