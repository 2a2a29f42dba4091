import { builtinKinds, resolveOptions, TributaryError, type NodeKind, type OptionSpec } from 'tributary';

const validFor: Record<OptionSpec['type'], unknown> = {
  duration: '1s',
  string: 'x',
  number: 1,
  integer: 1,
  boolean: true,
  function: () => undefined,
  object: { write: () => undefined },
  array: [],
  any: () => undefined,
};

const wrongFor: Partial<Record<OptionSpec['type'], unknown>> = {
  duration: '5x',
  string: 5,
  number: 'five',
  integer: 1.5,
  boolean: 'yes',
  function: 'x => x',
  object: 5,
  array: 'a,b',
};

/** Options that build the kind: every required option valid (and buffer needs size or interval). */
function baseOptions(kind: NodeKind<any>): Record<string, unknown> {
  const base: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(kind.options)) if (spec.required) base[name] = validFor[spec.type];
  if (kind.name === 'buffer') base.size = 10;
  if (kind.name === 'from') base.items = [1];
  return base;
}

function build(kind: NodeKind<any>, options: Record<string, unknown>) {
  return () => {
    const spec = kind.build(resolveOptions(kind.options, options, `node kind '${kind.name}'`));
    expect(spec.role).toBe(kind.role);
  };
}

describe('option validation for every built-in kind', () => {
  describe.each(builtinKinds.map((k) => [k.name, k] as const))('%s', (name, kind) => {
    it('builds from valid options', () => {
      expect(build(kind, baseOptions(kind))).not.toThrow();
    });

    it('rejects an unknown option, naming the kind and the option', () => {
      const bad = build(kind, { ...baseOptions(kind), bogus_option: 1 });
      expect(bad).toThrow(TributaryError);
      expect(bad).toThrow(`node kind '${name}': unknown option 'bogus_option'`);
    });

    it('rejects an option named like an Object.prototype member (toString, constructor)', () => {
      expect(build(kind, { ...baseOptions(kind), toString: 1 })).toThrow(`node kind '${name}': unknown option 'toString'`);
      expect(build(kind, { ...baseOptions(kind), constructor: 1 })).toThrow(`node kind '${name}': unknown option 'constructor'`);
    });

    const required = Object.entries(kind.options).filter(([, s]) => s.required);
    if (required.length > 0) {
      it.each(required.map(([o]) => o))('rejects a missing required option %p, naming kind and option', (option) => {
        const options = baseOptions(kind);
        delete options[option];
        expect(build(kind, options)).toThrow(new RegExp(`^node kind '${name}': option '${option}' is required`));
      });
    }

    const typed = Object.entries(kind.options).filter(([, s]) => wrongFor[s.type] !== undefined);
    if (typed.length > 0) {
      it.each(typed.map(([o, s]) => [o, s.type]))('rejects a wrong type for %p (%s), naming kind and option', (option, type) => {
        const bad = build(kind, { ...baseOptions(kind), [option]: wrongFor[type as OptionSpec['type']] });
        expect(bad).toThrow(TributaryError);
        expect(bad).toThrow(new RegExp(`^node kind '${name}': option '${option}'`));
      });
    }
  });
});

describe('resolveOptions', () => {
  const schema = {
    interval: { type: 'duration', required: true, min: 1, description: 'period' },
    size: { type: 'integer', min: 1, default: 10, description: 'count' },
    mode: { type: 'string', enum: ['a', 'b'], description: 'mode' },
  } as const;

  it('turns durations into ms and fills defaults', () => {
    expect(resolveOptions(schema, { interval: '1m30s' }, 'k')).toEqual({ interval: 90_000, size: 10 });
  });

  it('treats null as missing', () => {
    expect(resolveOptions(schema, { interval: 5, size: null }, 'k')).toEqual({ interval: 5, size: 10 });
    expect(() => resolveOptions(schema, { interval: null }, 'k')).toThrow("k: option 'interval' is required (period)");
  });

  it.each([
    ['5x', `k: option 'interval': bad duration "5x"`],
    ['-1', `k: option 'interval': bad duration "-1"`],
    ['', `k: option 'interval': bad duration ""`],
    ['1m30', `k: option 'interval': bad duration "1m30"`],
    [-1, `k: option 'interval': bad duration -1`],
    ['0s', `k: option 'interval' must be at least 1ms, got string "0s"`],
  ])('rejects the duration %p', (value, message) => {
    expect(() => resolveOptions(schema, { interval: value }, 'k')).toThrow(message);
  });

  it('rejects values outside an enum, listing the allowed ones', () => {
    expect(() => resolveOptions(schema, { interval: 1, mode: 'c' }, 'k')).toThrow(
      `k: option 'mode' must be one of "a", "b", got string "c"`,
    );
  });

  it('lists the known options when one is unknown', () => {
    expect(() => resolveOptions(schema, { interval: 1, intervall: 2 }, 'k')).toThrow(
      "k: unknown option 'intervall' (known: interval, size, mode)",
    );
  });

  it('rejects options that are not an object', () => {
    expect(() => resolveOptions(schema, ['1s'] as never, 'k')).toThrow('k: options must be an object, got a list');
    expect(() => resolveOptions(schema, '1s' as never, 'k')).toThrow(`k: options must be an object, got string "1s"`);
  });
});
