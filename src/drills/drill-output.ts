// How a drill reads: the runbook's own comment lines and commands, each followed by its evidence
// (indented) and PASS/FAIL lines; the tally decides the exit code.
export type DrillOutput = {
  /** A drill's title and where it comes from in the runbook. */
  heading(title: string, source: string): void;
  /** Runbook comment lines: `# Stop Redis`. */
  step(...lines: string[]): void;
  /** A command as the runbook writes it, and (optionally) what runs in its place here. */
  command(line: string, here?: string): void;
  /** Evidence: output, JSON, table rows; indented under the command. */
  evidence(text: string): void;
  /** PASS when `ok`; FAIL names what was seen instead. Returns `ok`. */
  check(ok: boolean, claim: string, seen?: string): boolean;
  /** Counts of PASS and FAIL lines so far. */
  tally(): { readonly passed: number; readonly failed: number };
};

const indent = (text: string, by = '    '): string =>
  text
    .split('\n')
    .map((line) => (line === '' ? '' : `${by}${line}`))
    .join('\n');

export const createDrillOutput = (write: (text: string) => void): DrillOutput => {
  let passed = 0;
  let failed = 0;
  return {
    heading: (title, source) => {
      write(`\n${'='.repeat(78)}\n${title}\n  runbook: ${source}\n${'='.repeat(78)}\n`);
    },
    step: (...lines) => write(`\n${lines.map((line) => `# ${line}\n`).join('')}`),
    command: (line, here) => {
      write(`$ ${line}\n`);
      if (here) write(`${indent(`(here: ${here})`)}\n`);
    },
    evidence: (text) => write(`${indent(text.replace(/\s+$/, ''))}\n`),
    check: (ok, claim, seen) => {
      if (ok) passed += 1;
      else failed += 1;
      write(ok ? `  PASS  ${claim}\n` : `  FAIL  ${claim}${seen ? `: ${seen}` : ''}\n`);
      return ok;
    },
    tally: () => ({ passed, failed }),
  };
};

/** A health report cut to what an operator reads first: overall status, each check's status and reason. */
export const healthSummary = (report: unknown): Record<string, unknown> => {
  const r = (report ?? {}) as { status?: unknown; service?: unknown; checks?: Record<string, unknown> };
  const checks: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(r.checks ?? {})) {
    const check = value as { status?: unknown; reason?: unknown };
    checks[name] =
      check.reason === undefined ? { status: check.status } : { status: check.status, reason: check.reason };
  }
  return { status: r.status, service: r.service, checks };
};

/** Rows as `psql` prints them: a header, a rule, aligned cells and `(n rows)`. */
export const psqlTable = (
  rows: ReadonlyArray<Record<string, unknown>>,
  columns?: readonly string[],
): string => {
  const names = columns ?? Object.keys(rows[0] ?? {});
  if (names.length === 0) return '(0 rows)';
  const cells = rows.map((row) => names.map((name) => String(row[name] ?? '')));
  const widths = names.map((name, i) => Math.max(name.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (values: readonly string[]): string =>
    values
      .map((value, i) => ` ${value.padEnd(widths[i] ?? 0)} `)
      .join('|')
      .trimEnd();
  return [
    line(names),
    widths.map((w) => '-'.repeat(w + 2)).join('+'),
    ...cells.map(line),
    `(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`,
  ].join('\n');
};
