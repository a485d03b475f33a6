import { describe, expect, it } from 'vitest';
import { compileNamed } from './placeholders';

describe('named placeholders', () => {
  it('turns each :name into ? and lists the names in order, repeats included', () => {
    expect(compileNamed('WHERE (:t IS NULL OR a = :t) AND b >= CAST(:from AS TIMESTAMP)')).toEqual({
      sql: 'WHERE (? IS NULL OR a = ?) AND b >= CAST(? AS TIMESTAMP)',
      names: ['t', 't', 'from'],
    });
  });

  it('leaves string literals, quoted identifiers, comments and :: casts alone', () => {
    const text = `SELECT 'a:b '':c', "x:y", v::VARCHAR -- :not_me\nFROM t WHERE k = :k`;
    expect(compileNamed(text)).toEqual({
      sql: `SELECT 'a:b '':c', "x:y", v::VARCHAR -- :not_me\nFROM t WHERE k = ?`,
      names: ['k'],
    });
  });

  it('lets a rendering write something else for a placeholder (a typed NULL for an absent value)', () => {
    const out = compileNamed('a = :x AND b = :y', (n) => (n === 'x' ? 'CAST(NULL AS VARCHAR)' : null));
    expect(out).toEqual({ sql: 'a = CAST(NULL AS VARCHAR) AND b = ?', names: ['y'] });
  });
});
