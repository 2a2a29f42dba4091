/**
 * docs/event-time.md: its marble example is this test, word for word, and the page keeps the
 * section the keyed-state work fills in.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { marbles } from 'rxjs-marbles/jest';
import { payloadOperator } from 'tributary/testing';
import { eventtime } from '../../lib/eventtime';

const page = readFileSync(path.join(__dirname, '../../docs/event-time.md'), 'utf8');

// doc:begin
it(
  'fires [0,10) when event time 12 arrives',
  marbles((m) => {
    const w = payloadOperator(eventtime.tumblingWindow({ size: 10, timeField: 't' }), { scheduler: m.scheduler });
    m.expect(m.cold('a-b-c|', { a: { t: 1 }, b: { t: 4 }, c: { t: 12 } }).pipe(w)).toBeObservable('----x(y|)', {
      x: { key: null, start: 0, end: 10, count: 2, value: 2 },
      y: { key: null, start: 10, end: 20, count: 1, value: 1 },
    });
  }),
);
// doc:end

describe('docs/event-time.md', () => {
  it('shows the marble test above as it is', () => {
    const source = readFileSync(__filename, 'utf8');
    const example = source.slice(source.indexOf('// doc:begin\n') + 13, source.indexOf('// doc:end'));
    expect(page).toContain(example);
  });

  it('has the keyed state and checkpoints section', () => {
    expect(page).toMatch(/^## Keyed state and checkpoints$/m);
  });
});
