import { describe, expect, it } from 'vitest';
import { describePosition, jsonErrorPosition } from '../../../functions/api/json-position.js';

describe('jsonErrorPosition', () => {
  it.each([
    ['{"a":}', 5],
    ['{"a":1,}', 7],
    ['[1,2', 4],
    ['{a:1}', 1],
    ['"unterminated', 13],
    ['tru', 3],
    ['01', 1],
    ['{"a":1} x', 8],
    ['"bad \\q escape"', 6],
    ['', 0],
  ])('finds where %j goes wrong: position %i', (text, position) => {
    // Act + Assess
    expect(jsonErrorPosition(text)).toBe(position);
  });

  it('finds nothing wrong in valid JSON, in agreement with JSON.parse', () => {
    // Prepare
    const valid = ['{"a":[1,-2.5e3,true,false,null,"\\u00e9\\n"]}', ' [ ] ', '"x"', '0'];

    // Act + Assess
    for (const text of valid) {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(jsonErrorPosition(text)).toBeUndefined();
    }
  });

  it('gives up quietly instead of overflowing the stack on deeply nested input', () => {
    // Act + Assess
    expect(() => jsonErrorPosition('['.repeat(200_000))).not.toThrow();
  });

  it('describes a position with its line and column', () => {
    expect(describePosition('{\n  x', 4)).toBe('unexpected "x" at position 4 (line 2, column 3)');
    expect(describePosition('{', 1)).toBe('unexpected end of input at position 1 (line 1, column 2)');
  });
});
