import { expect } from 'vitest';
import { ConfigurationError } from '../../local/config.ts';

/** The problems of the ConfigurationError `work` throws (it must throw one). */
export function problemsOf(work: () => unknown): readonly string[] {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems;
  }
  throw new Error('no ConfigurationError');
}
