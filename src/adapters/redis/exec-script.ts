// The Lua script behind Bus.exec: several stream writes as one atomic step, optionally only while a
// given entry still exists (so closing a dead letter happens exactly once). On a Redis Cluster an
// exec over several slots runs this script once per slot (cluster-exec.ts); there an add may carry
// an idempotency key, kept in a hash of the same slot.
import type { StreamFields } from '../../core/envelope.ts';
import type { BusWrite, ExecOptions } from '../../ports/bus.ts';
import { idFieldRefs } from '../exec-id-fields.ts';
import { flattenFields } from './replies.ts';

// Redis does not roll back a script that fails half way, so every stream key's type is checked
// before the first write; after that the writes cannot fail on their own.
export const execScript = `
local spec = cjson.decode(ARGV[1])
local hashes = {}
for _, m in ipairs(spec.hashes) do hashes[m] = true end
for i = 1, #KEYS do
  local t = redis.call('TYPE', KEYS[i])['ok']
  if t ~= 'none' and t ~= (hashes[i] and 'hash' or 'stream') then
    return redis.error_reply('WRONGTYPE key ' .. KEYS[i] .. ' holds a ' .. t .. ', not a stream')
  end
end
if spec.require then
  local found = redis.call('XRANGE', KEYS[spec.require.k], spec.require.id, spec.require.id)
  if #found == 0 then return {0, {}} end
end
local added = {}
for _, w in ipairs(spec.writes) do
  if w.op == 'add' then
    local earlier = w.m and redis.call('HGET', KEYS[w.m], w.once)
    if earlier and #redis.call('XRANGE', KEYS[w.k], earlier, earlier) > 0 then
      added[#added + 1] = earlier
    else
      local args = {KEYS[w.k], '*'}
      for _, v in ipairs(w.fields) do args[#args + 1] = v end
      for _, r in ipairs(w.ids) do
        args[#args + 1] = r[1]
        args[#args + 1] = added[r[2]]
      end
      added[#added + 1] = redis.call('XADD', unpack(args))
      if w.m then redis.call('HSET', KEYS[w.m], w.once, added[#added]) end
    end
  elseif w.op == 'ack' then
    redis.call('XACK', KEYS[w.k], w.group, unpack(w.ids))
  elseif w.op == 'del' then
    redis.call('XDEL', KEYS[w.k], unpack(w.ids))
  end
end
return {1, added}
`;

type EncodedWrite =
  | { op: 'add'; k: number; fields: string[]; ids: [string, number][]; m?: number; once?: string }
  | { op: 'ack'; k: number; group: string; ids: readonly string[] }
  | { op: 'del'; k: number; ids: readonly string[] };

/**
 * Keys (prefixed) and the JSON argument for the script; Lua arrays are 1-based. With `onceKey`, adds
 * with `once` keep their key in that hash (only an exec split over slots needs it).
 */
export const encodeExec = (
  writes: readonly BusWrite[],
  options: ExecOptions,
  key: (stream: string) => string,
  onceKey?: (stream: string) => string,
): { keys: string[]; arg: string } => {
  const keys: string[] = [];
  const hashes: number[] = [];
  const indexOf = (k: string): number => {
    const at = keys.indexOf(k);
    if (at >= 0) return at + 1;
    keys.push(k);
    return keys.length;
  };
  const streamAt = (stream: string): number => indexOf(key(stream));
  // Lua indexes the ids added so far from 1.
  const refs = idFieldRefs(writes);
  const encoded = writes
    .map((w, i): EncodedWrite | undefined => {
      if (w.op === 'add') {
        const ids = (refs[i] ?? []).map(([name, at]): [string, number] => [name, at + 1]);
        const add: EncodedWrite = {
          op: 'add',
          k: streamAt(w.stream),
          fields: flattenFields(w.fields as StreamFields),
          ids,
        };
        if (onceKey && w.once !== undefined) {
          const m = indexOf(onceKey(w.stream));
          if (!hashes.includes(m)) hashes.push(m);
          return { ...add, m, once: w.once };
        }
        return add;
      }
      if (w.ids.length === 0) return undefined;
      if (w.op === 'ack') return { op: 'ack', k: streamAt(w.stream), group: w.group, ids: w.ids };
      return { op: 'del', k: streamAt(w.stream), ids: w.ids };
    })
    .filter((w) => w !== undefined);
  const require = options.requireEntry
    ? { k: streamAt(options.requireEntry.stream), id: options.requireEntry.id }
    : undefined;
  return { keys, arg: JSON.stringify({ require, hashes, writes: encoded }) };
};
