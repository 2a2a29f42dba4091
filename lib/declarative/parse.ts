import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { TributaryError } from '../errors';
import { located, SourcePositions, type ValuePath } from './positions';

/** A network file read into plain data, with where each value was written. */
export interface ParsedFile {
  /** The file's top-level value (JSON-compatible data). */
  value: unknown;
  positions: SourcePositions;
}

/**
 * Parses the text of a YAML or JSON network file (JSON is YAML, so one parser serves both and
 * duplicate keys are an error in either) into plain data and a map of positions. A syntax
 * error is a `TributaryError` (`SCRIPT`) whose message starts `file:line:column:`.
 *
 * @example
 * ```ts
 * const { value, positions } = parseNetworkText(fs.readFileSync('network.yaml', 'utf8'), 'network.yaml');
 * positions.at(['nodes', 1]); // { line: 6, column: 5 }
 * ```
 */
export function parseNetworkText(text: string, file: string): ParsedFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const fail = doc.errors[0];
  if (fail) {
    const at = lineCounter.linePos(fail.pos[0]);
    throw new TributaryError('SCRIPT', `${located(file, { line: at.line, column: at.col })}: ${firstLine(fail.message)}`);
  }
  const positions = new SourcePositions();
  const pos = (offset: number) => {
    const at = lineCounter.linePos(offset);
    return { line: at.line, column: at.col };
  };
  const walk = (node: unknown, path: ValuePath) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined) continue;
        const keyNode = pair.key as YamlNode;
        // An option's error points at its key: `url: …` is the line to fix.
        if (keyNode.range) positions.set([...path, key], pos(keyNode.range[0]));
        if (isScalar(pair.value) && pair.value.range) {
          const block = pair.value.type === 'BLOCK_LITERAL' || pair.value.type === 'BLOCK_FOLDED';
          positions.setValueLine([...path, key], pos(pair.value.range[0]).line + (block ? 1 : 0));
        }
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const range = (item as YamlNode | null)?.range;
        if (range) positions.set([...path, i], pos(range[0]));
        walk(item, [...path, i]);
      });
    }
  };
  if (doc.contents?.range) positions.set([], pos(doc.contents.range[0]));
  walk(doc.contents, []);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new TributaryError('SCRIPT', `${file}: ${(e as Error).message}`);
  }
  return { value, positions };
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/\s+at line \d+, column \d+:?$/, '');
}
