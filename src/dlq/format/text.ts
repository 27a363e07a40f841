// Text helpers for terminal output: untrusted text made printable, cut and padded to a width.

// C0/C1 control characters (ESC among them) in stored data must never reach the terminal raw.
const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** One printable line: control characters and line breaks become spaces, runs of space collapse. */
export const oneLine = (text: string): string =>
  text
    .replace(controls, ' ')
    .replace(/[\t\n\r]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();

/** Printable text that keeps its line breaks (stacks, pretty JSON). */
export const printable = (text: string): string =>
  text.replace(/\r\n?/g, '\n').replace(/\t/g, '  ').replace(controls, '?');

/** Cuts to `width` characters, marking the cut with an ellipsis. */
export const cut = (text: string, width: number): string => {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length <= width) return text;
  return `${chars.slice(0, width - 1).join('')}…`;
};

export const visibleLength = (text: string): number => [...text].length;

export const padEnd = (text: string, width: number): string =>
  text + ' '.repeat(Math.max(0, width - visibleLength(text)));

export const padStart = (text: string, width: number): string =>
  ' '.repeat(Math.max(0, width - visibleLength(text))) + text;

/** Indents every line of a block. */
export const indent = (text: string, by = '  '): string =>
  text
    .split('\n')
    .map((line) => (line === '' ? line : by + line))
    .join('\n');
