// Terminal styling that turns itself off: no escape codes unless colour is wanted (a TTY, no NO_COLOR).

export type Style = {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly green: (text: string) => string;
  readonly cyan: (text: string) => string;
};

const sgr =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`;

const plain = (text: string): string => text;

export const createStyle = (color: boolean): Style =>
  color
    ? {
        bold: sgr(1, 22),
        dim: sgr(2, 22),
        red: sgr(31, 39),
        yellow: sgr(33, 39),
        green: sgr(32, 39),
        cyan: sgr(36, 39),
      }
    : { bold: plain, dim: plain, red: plain, yellow: plain, green: plain, cyan: plain };

/**
 * Whether to colour: only on a terminal, and never when NO_COLOR is set to anything non-empty
 * (https://no-color.org). The caller reads the environment; this stays pure.
 */
export const wantsColor = (isTTY: boolean, noColor: string | undefined): boolean =>
  isTTY && (noColor === undefined || noColor === '');
