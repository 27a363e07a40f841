// Payloads as a person reads them: at most 4 KiB unless asked for in full, so one large dead letter
// cannot flood the terminal; what was left out is said, with its size.

export const PAYLOAD_PREVIEW_BYTES = 4096;

export type PayloadPreview = {
  readonly text: string;
  /** The whole stored payload's size in bytes (UTF-8). */
  readonly bytes: number;
  readonly truncated: boolean;
};

/** The longest prefix of `text` of at most `max` UTF-8 bytes, never splitting a character. */
export const utf8Prefix = (text: string, max: number): string => {
  const buffer = Buffer.from(text, 'utf8');
  if (buffer.length <= max) return text;
  let end = max;
  while (end > 0 && ((buffer[end] as number) & 0xc0) === 0x80) end -= 1;
  return buffer.subarray(0, end).toString('utf8');
};

const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

/** `text` cut to the preview size unless `full`; `bytes` is the size of `raw` as stored. */
export const previewOf = (text: string, raw: string, full: boolean): PayloadPreview => {
  const bytes = byteLength(raw);
  if (full || byteLength(text) <= PAYLOAD_PREVIEW_BYTES) return { text, bytes, truncated: false };
  return { text: utf8Prefix(text, PAYLOAD_PREVIEW_BYTES), bytes, truncated: true };
};

export const truncationNote = (preview: PayloadPreview): string =>
  `… payload is ${preview.bytes} bytes; the first ${PAYLOAD_PREVIEW_BYTES} are shown (--full shows it all)`;
