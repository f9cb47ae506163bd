import { StringDecoder } from 'node:string_decoder';

/** A line of input: its 1-based number and text, or `null` text for a line over the length limit. */
export type LineHandler = (text: string | null, lineNo: number) => void | Promise<void>;

/**
 * Calls `onLine` for each line of `input`, one chunk at a time. The next chunk is read only after
 * every line of the current one was handled (and any promise `onLine` returned has settled), so a
 * slow consumer slows the reading: memory stays bounded by one chunk plus one line of at most
 * `maxLineChars`, whatever the size of the input. A longer line is reported as `null` and
 * skipped up to its end. `\r\n` endings are accepted.
 */
export async function forEachLine(
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  maxLineChars: number,
  onLine: LineHandler,
): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let overlong = false;
  let lineNo = 0;
  const emit = (text: string): void | Promise<void> => {
    lineNo++;
    if (overlong || text.length > maxLineChars) {
      overlong = false;
      return onLine(null, lineNo);
    }
    return onLine(text.endsWith('\r') ? text.slice(0, -1) : text, lineNo);
  };
  for await (const chunk of input) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const pending = emit(text.slice(start, nl));
      if (pending) await pending;
      start = nl + 1;
    }
    rest = text.slice(start);
    if (rest.length > maxLineChars) {
      overlong = true;
      rest = '';
    }
  }
  rest += decoder.end();
  if (rest.length > 0 || overlong) {
    const pending = emit(rest);
    if (pending) await pending;
  }
  return lineNo;
}
