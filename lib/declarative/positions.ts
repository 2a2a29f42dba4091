/** Where something is in a network file: line and column, both from 1. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A path into a parsed file's value: keys of objects, indexes of lists (`['nodes', 2, 'options', 'url']`). */
export type ValuePath = readonly (string | number)[];

/**
 * Where each value of a parsed file was written, by its path. The builder asks it for the
 * line of a node, an option or an edge to put in front of an error message.
 *
 * @example
 * ```ts
 * const { positions } = parseNetworkText(text, 'network.yaml');
 * positions.at(['nodes', 0, 'options', 'url']); // { line: 7, column: 7 }
 * ```
 */
export class SourcePositions {
  private readonly map = new Map<string, SourcePosition>();
  private readonly lines = new Map<string, number>();

  /**
   * Records where the value at `path` was written (the first record of a path wins).
   *
   * @example
   * ```ts
   * positions.set(['nodes', 0], { line: 3, column: 5 });
   * ```
   */
  set(path: ValuePath, at: SourcePosition): void {
    const key = pathKey(path);
    if (!this.map.has(key)) this.map.set(key, at);
  }

  /**
   * Records the line a string value's text starts on (the line after `|` for a block).
   *
   * @example
   * ```ts
   * positions.setValueLine(['nodes', 0, 'options', 'fn'], 9);
   * ```
   */
  setValueLine(path: ValuePath, line: number): void {
    this.lines.set(pathKey(path), line);
  }

  /**
   * The line a string value's text starts on (Lua source in an option is compiled so that
   * its errors name the file's lines); failing that, the line of its key.
   *
   * @example
   * ```ts
   * positions.valueLine(['nodes', 0, 'options', 'fn']); // 9
   * ```
   */
  valueLine(path: ValuePath): number | undefined {
    return this.lines.get(pathKey(path)) ?? this.at(path)?.line;
  }

  /**
   * Where the value at `path` was written; failing that, its nearest recorded parent.
   *
   * @example
   * ```ts
   * positions.at(['nodes', 0, 'options', 'nope']); // the line of nodes[0].options
   * ```
   */
  at(path: ValuePath): SourcePosition | undefined {
    for (let n = path.length; n >= 0; n--) {
      const found = this.map.get(pathKey(path.slice(0, n)));
      if (found) return found;
    }
    return undefined;
  }
}

function pathKey(path: ValuePath): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

/**
 * `file:line:column` (or less, for what is unknown), the prefix of every error a network
 * file causes.
 *
 * @example
 * ```ts
 * located('network.yaml', { line: 12, column: 7 }); // 'network.yaml:12:7'
 * ```
 */
export function located(file: string | undefined, at: SourcePosition | undefined): string {
  const name = file ?? '<network>';
  return at ? `${name}:${at.line}:${at.column}` : name;
}
