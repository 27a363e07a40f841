// Postgres array literals built here rather than by postgres.js `sql.array()`, whose element type
// depends on type information fetched per pool: a pool's very first query could send `a,b` instead
// of `{"a","b"}` and fail. Text in, cast in SQL (`${pgArray(ids)}::uuid[]`).

// Ids and names rarely hold either character, so most values skip the two replacements.
const quote = (value: string): string =>
  value.includes('"') || value.includes('\\')
    ? `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
    : `"${value}"`;

export const pgArray = (values: ReadonlyArray<string | number | null>): string => {
  let literal = '{';
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (i > 0) literal += ',';
    literal += value === null || value === undefined ? 'NULL' : quote(String(value));
  }
  return `${literal}}`;
};
