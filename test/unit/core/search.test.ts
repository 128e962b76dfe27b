import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { indexedWords, lookupWord, MAX_INDEXED_WORDS, MAX_WORD_LENGTH, scoreMatch } from '../../../core/workflow/search.ts';

const text = (name: string, description = '', tags: string[] = []) => ({ name, description, tags });

describe('search words', () => {
  it('indexes the lower-cased words of name, tags and description once each, name words first', () => {
    expect(indexedWords(text('Invoice Approval', 'Approves invoices; v2', ['Finance', 'invoice']))).toEqual(['invoice', 'approval', 'finance', 'approves', 'invoices', 'v2']);
  });

  it('splits on anything but letters and digits, in any script', () => {
    expect(indexedWords(text('données-clients_2024 Ünïcode 数据', ''))).toEqual(['données', 'clients', '2024', 'ünïcode', '数据']);
  });

  it('bounds what one workflow indexes: words by their first 64 characters, at most 200 words', () => {
    const long = 'a'.repeat(100);
    expect(indexedWords(text(long))).toEqual(['a'.repeat(MAX_WORD_LENGTH)]);
    const many = Array.from({ length: 500 }, (_, i) => `w${i}`).join(' ');
    const words = indexedWords(text('name first', many));
    expect(words).toHaveLength(MAX_INDEXED_WORDS);
    expect(words.slice(0, 2)).toEqual(['name', 'first']);
  });

  it('looks up the longest word of a query, and nothing when it has no letter or digit', () => {
    expect(lookupWord('data  pipelines v2')).toBe('pipelines');
    expect(lookupWord(' -- / ')).toBeUndefined();
  });

  it('finds every text by any prefix of any of its words (what the index promises search)', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-zA-Z0-9]{1,12}$/), { minLength: 1, maxLength: 8 }), fc.nat(), fc.nat(), (words, pick, cut) => {
        const word = words[pick % words.length]!.toLowerCase();
        const prefix = word.slice(0, 1 + (cut % word.length));
        const indexed = indexedWords(text(words.join(' ')));
        expect(indexed.some((candidate) => candidate.startsWith(lookupWord(prefix)!))).toBe(true);
        expect(scoreMatch(text(words.join(' ')), prefix)).toBeDefined();
      }),
    );
  });

  it('scores whole-query substring matches; a fragment inside a word still matches once a candidate is read', () => {
    expect(scoreMatch(text('Document Analysis'), 'document analysis')).toEqual({ score: 1000, matched: ['name'] });
    expect(scoreMatch(text('Other', 'a pipeline', ['Pipeline']), 'pipeline')).toEqual({ score: 40, matched: ['tags', 'description'] });
    expect(scoreMatch(text('Other'), 'pipeline')).toBeUndefined();
  });
});
