import { agglo } from '../../lib/agglo/index';
import { compileTransformer } from '../../lib/agglo/transform';
import { readMessage, TRANSFORMER } from '../../lib/agglo/proto';
import { jsonScript, script } from './exec-support';
import { nackReasons, runChain } from './support';

type Spec = { sourceField?: string; targetField?: string; transformation: Record<string, unknown> };
const t = (specs: Spec[], forwardInputFields = false) => compileTransformer(readMessage(TRANSFORMER, { specs, forwardInputFields }, ''));
const one = (transformationType: string, args: Record<string, unknown> = {}, condition?: unknown) => [
  { sourceField: 'in', targetField: 'out', transformation: { transformationType, ...args, ...(condition ? { condition } : {}) } },
];

describe('transform (agglo transformer)', () => {
  it('TransformCopy copies a value (deep) to a nested target, creating the maps', () => {
    const src = { a: { b: [1, { c: 2 }] } };
    const out = t([{ sourceField: 'a.b', targetField: 'x.y.z', transformation: { transformationType: 'TransformCopy' } }]).applySync(src);
    expect(out).toEqual({ x: { y: { z: [1, { c: 2 }] } } });
    ((out.x as any).y.z[1] as { c: number }).c = 9;
    expect(src.a.b[1]).toEqual({ c: 2 });
  });
  it('forwardInputFields keeps the input fields; without it the output has only the targets', () => {
    const specs = [{ sourceField: 'someNum', targetField: 'newNum', transformation: { transformationType: 'TransformCopy' } }];
    expect(t(specs, true).applySync({ someNum: 3, k: 'v' })).toEqual({ someNum: 3, k: 'v', newNum: 3 });
    expect(t(specs, false).applySync({ someNum: 3, k: 'v' })).toEqual({ newNum: 3 });
  });
  it('skips a spec whose source is missing, and one whose condition is false', () => {
    const cond = { expression: { comparator: { lhs: { variable: { name: 'go' } }, rhs: { literal: 'yes' }, op: 'Equal' } } };
    const tr = t(one('TransformCopy', {}, cond), true);
    expect(tr.applySync({ in: 1, go: 'yes' })).toEqual({ in: 1, go: 'yes', out: 1 });
    expect(tr.applySync({ in: 1, go: 'no' })).toEqual({ in: 1, go: 'no' });
    expect(tr.applySync({ go: 'yes' })).toEqual({ go: 'yes' });
  });
  it('whole-map mode (both fields empty) transforms the event and merges the resulting map', () => {
    expect(t([{ transformation: { transformationType: 'TransformCopy' } }]).applySync({ a: 1, b: { c: 2 } })).toEqual({
      a: 1,
      b: { c: 2 },
    });
    expect(() => t([{ transformation: { transformationType: 'TransformCount' } }]).applySync({ a: 1 })).toThrow('needs a list, got a map');
  });
  it('TransformSum adds a list of numbers; anything else is an error', () => {
    expect(t(one('TransformSum')).applySync({ in: [1, 2.5, 3] })).toEqual({ out: 6.5 });
    expect(() => t(one('TransformSum')).applySync({ in: [1, 'x'] })).toThrow('TransformSum needs numbers, got string');
    expect(() => t(one('TransformSum')).applySync({ in: 5 })).toThrow('TransformSum needs a list, got number');
  });
  it('TransformCount counts a list (0 for an empty one: agglo gave null)', () => {
    expect(t(one('TransformCount')).applySync({ in: ['a', 'b', {}] })).toEqual({ out: 3 });
    expect(t(one('TransformCount')).applySync({ in: [] })).toEqual({ out: 0 });
  });
  it('TransformMapRegex replaces every match with Go templates ($1, ${1}, named groups), over lists and maps', () => {
    expect(t(one('TransformMapRegex', { mapRegexArgs: { regex: 'buzz/(.*)', replace: '$1' } })).applySync({ in: 'buzz/fizz' })).toEqual({
      out: 'fizz',
    });
    expect(
      t(one('TransformMapRegex', { mapRegexArgs: { regex: '(?P<k>\\w)(\\d)', replace: '${2}${k}' } })).applySync({ in: ['a1b2', 'c3'] }),
    ).toEqual({ out: ['1a2b', '3c'] });
    expect(t(one('TransformMapRegex', { mapRegexArgs: { regex: '(\\w)', replace: '$1x' } })).applySync({ in: 'ab' })).toEqual({ out: '' });
    expect(t(one('TransformMapRegex', { mapRegexArgs: { regex: 'a', replace: '$$' } })).applySync({ in: { k: 'banana' } })).toEqual({
      out: { k: 'b$n$n$' },
    });
    expect(() => t(one('TransformMapRegex', { mapRegexArgs: { regex: 'a', replace: '' } })).applySync({ in: 1 })).toThrow('needs strings');
    // One level only, as agglo: a map inside a list is not a string.
    expect(() => t(one('TransformMapRegex', { mapRegexArgs: { regex: 'a', replace: '' } })).applySync({ in: [{ x: 'a' }] })).toThrow(
      'needs strings, got a map',
    );
  });
  it('TransformMapAdd and TransformMapMult apply a constant to a number, each list element or map value', () => {
    expect(t(one('TransformMapAdd', { mapAddArgs: { value: 1.5 } })).applySync({ in: [1, 2] })).toEqual({ out: [2.5, 3.5] });
    expect(t(one('TransformMapMult', { mapMultArgs: { value: 3 } })).applySync({ in: { a: 2, b: -1 } })).toEqual({ out: { a: 6, b: -3 } });
    expect(t(one('TransformMapMult', { mapMultArgs: { value: 3 } })).applySync({ in: 2 })).toEqual({ out: 6 });
    expect(() => t(one('TransformMapAdd', { mapAddArgs: { value: 1 } })).applySync({ in: 'x' })).toThrow('needs numbers');
  });
  it('TransformPopHead / TransformPopTail take the first / last element (null when empty)', () => {
    expect(t(one('TransformPopHead')).applySync({ in: [1, 2, 3] })).toEqual({ out: 1 });
    expect(t(one('TransformPopTail')).applySync({ in: [1, 2, 3] })).toEqual({ out: 3 });
    expect(t(one('TransformPopTail')).applySync({ in: [] })).toEqual({ out: null });
    expect(() => t(one('TransformPopHead')).applySync({ in: 'x' })).toThrow('needs a list');
  });
  it('rejects a missing type, missing arguments and bad regexes at build time, naming the field', () => {
    expect(() => agglo.transform({ name: 'T', specs: [{ sourceField: 'a', targetField: 'b', transformation: {} }] })).toThrow(
      "transform 'T': specs[0].transformation.transformationType: is required",
    );
    expect(() => agglo.transform({ specs: one('TransformMapAdd') })).toThrow(
      'specs[0].transformation.mapAddArgs: is required for TransformMapAdd',
    );
    expect(() => agglo.transform({ specs: one('TransformMapRegex', { mapRegexArgs: { regex: '[' } }) })).toThrow(
      'specs[0].transformation.mapRegexArgs.regex: invalid regex',
    );
    expect(() => agglo.transform({ specs: one('TransformCopy', { mapArgs: { path: 'x' }, mapAddArgs: { value: 1 } }) })).toThrow(
      "'mapArgs' and 'mapAddArgs' are alternatives",
    );
  });
  it('writing under a field that is not a map is an error event', async () => {
    const run = await runChain(
      [
        [
          'tr',
          agglo.transform({
            forwardInputFields: true,
            specs: [{ sourceField: 'a', targetField: 'a.b', transformation: { transformationType: 'TransformCopy' } }],
          }),
        ],
      ],
      [{ a: 1 }],
    );
    expect(nackReasons(run)).toEqual(["cannot write 'a.b': 'a' is number, not a map"]);
  });

  describe('through executables (allowExec)', () => {
    const double = jsonScript('double', '(x) => x * 2');
    const sumAcc = jsonScript('sum-acc', "(x) => (x['internal:acc'] ?? 0) + x.v");
    const trace = jsonScript('trace', "(x) => (x['internal:acc'] ?? '') + x.v");

    it('TransformMap runs the program on each element', async () => {
      const run = await runChain(
        [['tr', agglo.transform({ specs: one('TransformMap', { mapArgs: { path: double } }) })]],
        [{ in: [1, 2, 3] }, { in: 5 }],
        { allowExec: true },
      );
      expect(run.out).toEqual([{ out: [2, 4, 6] }, { out: 10 }]);
    });

    it('TransformLeftFold / TransformRightFold fold with internal:acc (agglo mapped instead)', async () => {
      const items = { in: [{ v: 'a' }, { v: 'b' }, { v: 'c' }], nums: [{ v: 1 }, { v: 2 }] };
      const run = await runChain(
        [
          [
            'tr',
            agglo.transform({
              specs: [
                ...one('TransformLeftFold', { leftFoldArgs: { path: trace } }),
                {
                  sourceField: 'in',
                  targetField: 'right',
                  transformation: { transformationType: 'TransformRightFold', rightFoldArgs: { path: trace } },
                },
                {
                  sourceField: 'nums',
                  targetField: 'sum',
                  transformation: { transformationType: 'TransformLeftFold', leftFoldArgs: { path: sumAcc } },
                },
              ],
            }),
          ],
        ],
        [items],
        { allowExec: true },
      );
      expect(run.out).toEqual([{ out: 'abc', right: 'cba', sum: 3 }]);
    });

    it('is refused when the network does not allow exec', async () => {
      await expect(
        runChain([['tr', agglo.transform({ specs: one('TransformMap', { mapArgs: { path: double } }) })]], [{ in: 1 }]),
      ).rejects.toThrow("node 'tr' (transform) runs executables, which this network does not allow");
    });

    it('a failing program is an error event quoting its stderr', async () => {
      const bad = script('bad', "process.stderr.write('no luck'); process.exit(3);");
      const run = await runChain([['tr', agglo.transform({ specs: one('TransformMap', { mapArgs: { path: bad } }) })]], [{ in: 1 }], {
        allowExec: true,
      });
      expect(nackReasons(run)).toEqual([`${bad} exited with status 3: no luck`]);
    });
  });
});
