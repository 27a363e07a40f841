// Postgres array literals built here rather than by postgres.js `sql.array()`, whose element type
// depends on type information fetched per pool: a pool's very first query could send `a,b` instead
// of `{"a","b"}` and fail. Text in, cast in SQL (`${pgArray(ids)}::uuid[]`).

const quote = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export const pgArray = (values: ReadonlyArray<string | number | null>): string => {
  let literal = '{';
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (i > 0) literal += ',';
    literal += value === null || value === undefined ? 'NULL' : quote(String(value));
  }
  return `${literal}}`;
};
