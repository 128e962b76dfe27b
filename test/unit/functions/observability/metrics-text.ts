import { createRequire } from 'node:module';

/**
 * The Prometheus text format read back by an independent parser (parse-prometheus-text-format, a port of the
 * Python client's parser), so the tests check what a scraper reads, not what prom-client meant to write. The
 * package has no types: it is loaded through require and typed here.
 *
 * The parser folds a histogram with labels (besides `le`) into one sample, dropping its labels, count and sum;
 * so histograms are read a second time as untyped series (`<name>_bucket{le,...}`, `<name>_sum`, `<name>_count`),
 * which the parser keeps whole.
 */

export interface ParsedSample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value?: string;
  readonly buckets?: Readonly<Record<string, string>>;
  readonly count?: string;
  readonly sum?: string;
}

export interface ParsedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  readonly metrics: readonly ParsedSample[];
}

const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

/** One scrape, parsed. */
export interface Scrape {
  /** The families as the parser reads them (names, help, types). */
  readonly families: readonly ParsedFamily[];
  typeOf(name: string): ParsedFamily['type'] | undefined;
  /** The samples of `name` whose labels include `labels` (histograms: their `_bucket`, `_sum`, `_count` series). */
  samples(name: string, labels?: Record<string, string>): ParsedSample[];
  /** The value of the one sample of `name` with exactly these labels (undefined when there is none). */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Summed over every sample of `name` whose labels include `labels`. */
  total(name: string, labels?: Record<string, string>): number;
  /** The histogram `name` with exactly these labels (besides `le`): cumulative buckets by `le`, count and sum. */
  histogram(name: string, labels?: Record<string, string>): { buckets: Record<string, number>; count: number; sum: number } | undefined;
}

export function readScrape(text: string): Scrape {
  const families = parse(text);
  const series = parse(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'));
  const samples = (name: string, labels: Record<string, string> = {}): ParsedSample[] =>
    // A histogram's series come back as one family per run of lines (buckets, sum, count, then the next labels' buckets...).
    series.filter((family) => family.name === name).flatMap((family) => family.metrics).filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value));
  const exactly = (name: string, labels: Record<string, string>, ignore?: string): ParsedSample[] =>
    samples(name, labels).filter((sample) => Object.keys(sample.labels ?? {}).filter((key) => key !== ignore).length === Object.keys(labels).length);
  return {
    families,
    typeOf: (name) => families.find((family) => family.name === name)?.type,
    samples,
    value(name, labels = {}) {
      const [sample] = exactly(name, labels);
      return sample?.value === undefined ? undefined : Number(sample.value);
    },
    total: (name, labels = {}) => samples(name, labels).reduce((sum, sample) => sum + Number(sample.value ?? 0), 0),
    histogram(name, labels = {}) {
      const buckets = exactly(`${name}_bucket`, labels, 'le');
      const [count] = exactly(`${name}_count`, labels);
      const [sum] = exactly(`${name}_sum`, labels);
      if (buckets.length === 0 || !count || !sum) return undefined;
      return { buckets: Object.fromEntries(buckets.map((sample) => [sample.labels!['le']!, Number(sample.value)])), count: Number(count.value), sum: Number(sum.value) };
    },
  };
}
