import { describe, expect, it } from 'vitest';
import { actionSpanId, derivedSpanId, formatTraceparent, isSpanId, parseTraceparent, runSpanId } from '../../../../core/observability/spans.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('traceparent (W3C Trace Context)', () => {
  it('reads the trace id, the parent span id and the sampled flag of a version 00 header', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ trace_id: TRACE, span_id: SPAN, sampled: true });
    expect(parseTraceparent(`  00-${TRACE}-${SPAN}-00 `)).toEqual({ trace_id: TRACE, span_id: SPAN, sampled: false });
  });

  it('refuses what the specification calls invalid, so that the receiver starts a trace of its own', () => {
    for (const header of [
      undefined,
      '',
      'forged',
      `ff-${TRACE}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
      `00-${TRACE.slice(1)}-${SPAN}-01`,
    ]) {
      expect(parseTraceparent(header), String(header)).toBeUndefined();
    }
  });

  it('reads a later version by its version 00 fields, ignoring what follows them', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-what-comes-later`)).toEqual({ trace_id: TRACE, span_id: SPAN, sampled: true });
  });

  it('writes what it reads', () => {
    expect(parseTraceparent(formatTraceparent(TRACE, SPAN))).toEqual({ trace_id: TRACE, span_id: SPAN, sampled: true });
    expect(formatTraceparent(TRACE, SPAN, false)).toBe(`00-${TRACE}-${SPAN}-00`);
  });
});

describe('derived span ids', () => {
  it('are the same wherever they are computed, valid, and differ between runs, actions and items', () => {
    expect(runSpanId('run-1')).toBe(runSpanId('run-1'));
    const ids = [runSpanId('run-1'), runSpanId('run-2'), actionSpanId('run-1', 'a'), actionSpanId('run-1', 'b'), actionSpanId('run-2', 'a'), actionSpanId('run-1', 'a', 0), actionSpanId('run-1', 'a.compensation')];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(isSpanId(id), id).toBe(true);
  });

  it('spread over the id space (no collisions among 20,000 action ids of one run)', () => {
    const ids = new Set(Array.from({ length: 20_000 }, (_, index) => derivedSpanId(`action:run:${index}`)));
    expect(ids.size).toBe(20_000);
  });
});
