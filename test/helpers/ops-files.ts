// Reads the operations files the tests hold against the code: ops/RUNBOOK.md (fenced blocks, PromQL
// queries, runnable shell blocks, heading anchors), the alert rules and the Grafana dashboard.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const opsPath = (relative: string): string =>
  fileURLToPath(new URL(`../../ops/${relative}`, import.meta.url));
export const readOps = (relative: string): string => readFileSync(opsPath(relative), 'utf8');

export type FencedBlock = {
  /** The info string after the opening fence, e.g. `bash runnable`. */
  readonly info: string;
  readonly body: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The nearest heading above the block. */
  readonly heading: string;
  /** An HTML comment on the line(s) right before the fence, without `<!--` and `-->`. */
  readonly comment: string | undefined;
};

export const fencedBlocks = (markdown: string): FencedBlock[] => {
  const lines = markdown.split('\n');
  const blocks: FencedBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] as string;
    const headingMatch = /^#{1,6}\s+(.*)$/.exec(line);
    if (headingMatch) heading = (headingMatch[1] as string).trim();
    const open = /^(`{3,})(.*)$/.exec(line);
    if (!open) continue;
    const fence = open[1] as string;
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !(lines[i] as string).startsWith(fence); i += 1)
      body.push(lines[i] as string);
    const previous = lines[start - 1]?.trim() ?? '';
    const comment = /^<!--\s*(.*?)\s*-->$/.exec(previous)?.[1];
    blocks.push({
      info: (open[2] as string).trim(),
      body: body.join('\n'),
      line: start + 1,
      heading,
      comment,
    });
  }
  return blocks;
};

/** Each query of each `promql` block: comment lines separate queries, other lines join. */
export const promqlQueries = (markdown: string): string[] =>
  fencedBlocks(markdown)
    .filter((block) => block.info === 'promql')
    .flatMap((block) => {
      const queries: string[] = [];
      let current: string[] = [];
      const flush = (): void => {
        if (current.length > 0) queries.push(current.join(' '));
        current = [];
      };
      for (const raw of block.body.split('\n')) {
        const line = raw.trim();
        if (line === '' || line.startsWith('#')) flush();
        else current.push(line);
      }
      flush();
      return queries;
    });

/** The convention ops/RUNBOOK.md documents at its top: ```bash runnable marks a block the tests run. */
export const runnableBlocks = (markdown: string): FencedBlock[] =>
  fencedBlocks(markdown).filter((block) => /^(ba)?sh\b.*\brunnable\b/.test(block.info));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
export const headingAnchors = (markdown: string): Set<string> => {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    const match = inFence ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!match) continue;
    anchors.add(
      (match[1] as string)
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
};

export type AlertRule = {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
};

export const alertRules = (): AlertRule[] => {
  const doc = parse(readOps('prometheus/alerts.yml')) as { groups: Array<{ rules: AlertRule[] }> };
  return doc.groups.flatMap((group) => group.rules).filter((rule) => typeof rule.alert === 'string');
};

export type DashboardPanel = {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource: { type: string; uid: string };
  readonly targets: Array<{ expr: string; refId: string; legendFormat?: string }>;
};

export type Dashboard = {
  readonly title: string;
  readonly uid: string;
  readonly schemaVersion: number;
  readonly panels: DashboardPanel[];
  readonly templating: { list: Array<{ name: string; type: string; query?: string }> };
  readonly [key: string]: unknown;
};

export const dashboard = (): Dashboard => JSON.parse(readOps('grafana/mm-dashboard.json')) as Dashboard;

export const dashboardQueries = (): string[] =>
  dashboard().panels.flatMap((panel) => panel.targets.map((target) => target.expr));

/** `expr > 60`, `expr == 0`: the expression without its final threshold, to see that it has data. */
const withoutThreshold = (expr: string): string =>
  expr.replace(/\s*(>|<|==|!=|>=|<=)\s*-?[\d.]+\s*$/, '').trim();

/** Where a comparison sits outside parentheses, braces and quotes: `a < b` at the top level. */
const topLevelComparison = (expr: string): { at: number; length: number } | undefined => {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const char = expr[i] as string;
    if (quote) {
      if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'") quote = char;
    else if ('({['.includes(char)) depth++;
    else if (')}]'.includes(char)) depth--;
    else if (depth === 0) {
      const operator = /^(==|!=|>=|<=|>|<)/.exec(expr.slice(i))?.[0];
      if (operator) return { at: i, length: operator.length };
    }
  }
  return undefined;
};

/**
 * The series an alert compares, each of which must have data for the alert to be able to fire:
 * `expr > 60` gives `expr`; `sum(a) < max(b)`, a comparison of two series, gives both.
 */
export const alertOperands = (expr: string): string[] => {
  const series = withoutThreshold(expr);
  if (series !== expr.trim()) return [series];
  const comparison = topLevelComparison(expr);
  if (!comparison) return [expr.trim()];
  return [
    expr.slice(0, comparison.at).trim(),
    expr
      .slice(comparison.at + comparison.length)
      .replace(/^\s*bool\b/, '')
      .trim(),
  ];
};
