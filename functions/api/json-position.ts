/**
 * Where a JSON text first goes wrong. JSON.parse says so in its message only on some Node
 * versions, and in a different wording on each; this small scanner gives the same answer on all.
 */
export function jsonErrorPosition(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new SyntaxAt(i);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i += 1;
  };
  const literal = (word: string) => {
    for (const c of word) {
      if (text[i] !== c) fail();
      i += 1;
    }
  };
  const string = () => {
    i += 1;
    while (text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (i >= text.length || c < 0x20) fail();
      if (text[i] === '\\') {
        i += 1;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i += 1;
    }
    i += 1;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail();
    i += m?.[0].length ?? 0;
  };
  const list = (close: string, item: () => void) => {
    i += 1;
    ws();
    if (text[i] !== close) {
      for (;;) {
        item();
        ws();
        if (text[i] === close) break;
        if (text[i] !== ',') fail();
        i += 1;
      }
    }
    i += 1;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{')
      list('}', () => {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i += 1;
        value();
      });
    else if (c === '[') list(']', value);
    else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else fail();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return undefined;
  } catch (error) {
    // A RangeError is nesting too deep to scan: the position is not worth a stack overflow.
    return error instanceof SyntaxAt ? error.position : undefined;
  }
}

class SyntaxAt {
  constructor(readonly position: number) {}
}

/** `position 12 (line 2, column 3)`: what an editor needs to jump there. */
export function describePosition(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  const found = position >= text.length ? 'end of input' : JSON.stringify(text[position]);
  return `unexpected ${found} at position ${position} (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
}
