import type { WorkflowSummary } from './model.ts';

/**
 * Search finds workflows by the words of their name, tags and description. Stores index every word
 * (lower-cased, letters and digits only), so a query reads the workflows having a word that starts with the
 * query's longest word, never every workflow; the whole query is then matched as a substring of the text
 * (`scoreMatch`). "doc" finds "Document Analysis"; "cument" finds nothing (it starts no word).
 */

/** Longer words are indexed by their first 64 characters: a longer query word still finds them, by prefix. */
export const MAX_WORD_LENGTH = 64;
/** Words indexed per workflow (name's first, then tags', then description's): what bounds a write's cost. */
export const MAX_INDEXED_WORDS = 200;

const WORD = /[\p{L}\p{N}]+/gu;

function wordsOf(text: string): string[] {
  return (text.normalize('NFKC').toLowerCase().match(WORD) ?? []).map((word) => Array.from(word).slice(0, MAX_WORD_LENGTH).join(''));
}

/** The distinct words a store indexes for one workflow, at most MAX_INDEXED_WORDS, name words first. */
export function indexedWords(summary: Pick<WorkflowSummary, 'name' | 'tags' | 'description'>): string[] {
  const words = new Set<string>();
  for (const text of [summary.name, ...summary.tags, summary.description]) {
    for (const word of wordsOf(text)) {
      if (words.size >= MAX_INDEXED_WORDS) return [...words];
      words.add(word);
    }
  }
  return [...words];
}

/**
 * The word a query looks up in the index: its longest (the most selective), or undefined when the query
 * has no letter or digit at all.
 */
export function lookupWord(query: string): string | undefined {
  let longest: string | undefined;
  for (const word of wordsOf(query)) if (longest === undefined || Array.from(word).length > Array.from(longest).length) longest = word;
  return longest;
}

export type MatchedField = 'name' | 'tags' | 'description';

/**
 * How well a workflow matches a query (case-insensitive substring): any name match outranks any combination
 * of tag and description matches. Undefined when nothing matches.
 */
export function scoreMatch(workflow: Pick<WorkflowSummary, 'name' | 'tags' | 'description'>, query: string): { score: number; matched: MatchedField[] } | undefined {
  const needle = query.trim().normalize('NFKC').toLowerCase();
  const matched: MatchedField[] = [];
  let score = 0;
  const name = workflow.name.normalize('NFKC').toLowerCase();
  if (name.includes(needle)) {
    matched.push('name');
    score += name === needle ? 1000 : name.startsWith(needle) ? 600 : 400;
  }
  const tags = workflow.tags.map((tag) => tag.normalize('NFKC').toLowerCase());
  if (tags.some((tag) => tag.includes(needle))) {
    matched.push('tags');
    score += tags.some((tag) => tag === needle) ? 30 : 20;
  }
  if (workflow.description.normalize('NFKC').toLowerCase().includes(needle)) {
    matched.push('description');
    score += 10;
  }
  return matched.length > 0 ? { score, matched } : undefined;
}
