import { formatDuration, parseDuration, TributaryError } from 'tributary';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1500],
    ['.5s', 500],
    ['300us', 0.3],
    ['300µs', 0.3],
    ['1500ns', 0.0015],
    ['0', 0],
    ['0s', 0],
  ])('reads Go syntax %p as %p ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each([0, 1, 250, 1.5, 86_400_000])('takes the number %p as milliseconds', (ms) => {
    expect(parseDuration(ms)).toBe(ms);
  });

  it.each(['5x', '-1', '-1s', '', ' ', '1m30', 's', '1.2.3s', 'ms', '1 s', '2 parsecs', 'NaN'])(
    'rejects %p with a TributaryError naming the option and the value',
    (bad) => {
      expect(() => parseDuration(bad, 'interval')).toThrow(TributaryError);
      expect(() => parseDuration(bad, 'interval')).toThrow(`option 'interval': bad duration ${JSON.stringify(bad)}`);
    },
  );

  it.each([-1, NaN, Infinity, null, undefined, true, {}, ['1s']])('rejects the non-duration value %p', (bad) => {
    expect(() => parseDuration(bad, 'duration')).toThrow(/option 'duration': bad duration/);
  });

  it('reports the code BAD_OPTION', () => {
    try {
      parseDuration('5x');
      throw new Error('no throw');
    } catch (e) {
      expect((e as TributaryError).code).toBe('BAD_OPTION');
    }
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [2000, '2s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [3_723_004, '1h2m3s4ms'],
    [-1500, '-1s500ms'],
  ])('formats %p ms as %p', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([1, 999, 1500, 90_000, 3_723_004, 0.3, 86_400_000])('round-trips %p ms through parseDuration', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBeCloseTo(ms, 9);
  });
});
