/**
 * CSV helpers for the file and stdio connectors (RFC 4180: quoted fields may hold the
 * delimiter, doubled quotes and line breaks).
 */

/**
 * Scans CSV text with the state machine of RFC 4180 as readers apply it: a quote opens a
 * quoted field only at the start of a field; inside one, `""` is a quote and a lone `"`
 * closes it; elsewhere a quote is an ordinary character. Returns the fields and whether the
 * text ends inside a quoted field.
 */
function scanCsv(text: string, delimiter: string): { fields: string[]; open: boolean } {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let atStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (text.startsWith(delimiter, i)) {
      fields.push(field);
      field = '';
      atStart = true;
      i += delimiter.length - 1;
      continue;
    } else if (c === '"' && atStart) quoted = true;
    else field += c;
    atStart = false;
  }
  fields.push(field);
  return { fields, open: quoted };
}

/**
 * True when `text` ends inside a quoted field, so the record continues on the next line. A
 * quote opens a quoted field only at the start of a field: a stray `"` inside an unquoted
 * field is an ordinary character.
 *
 * @example
 * ```ts
 * csvRecordOpen('a,"b');      // true
 * csvRecordOpen('a,5" disk'); // false
 * ```
 */
export function csvRecordOpen(text: string, delimiter = ','): boolean {
  return scanCsv(text, delimiter).open;
}

/**
 * Splits one CSV record into fields (a quote opens a quoted field only at a field's start).
 *
 * @example
 * ```ts
 * parseCsvRecord('1,"a, b","say ""hi"""', ','); // ['1', 'a, b', 'say "hi"']
 * parseCsvRecord('2,5" disk', ',');              // ['2', '5" disk']
 * ```
 */
export function parseCsvRecord(record: string, delimiter: string): string[] {
  return scanCsv(record, delimiter).fields;
}

/**
 * A field as a number when it looks like one (and `cast` is on), otherwise the string.
 *
 * @example
 * ```ts
 * castField('12.5'); // 12.5
 * castField('007x'); // '007x'
 * ```
 */
export function castField(value: string): unknown {
  if (value !== '' && /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value.trim())) return Number(value);
  return value;
}

/**
 * Formats one CSV record, quoting fields that hold the delimiter, quotes or line breaks.
 * Objects and lists are written as JSON; null and undefined as empty fields.
 *
 * @example
 * ```ts
 * formatCsvRecord(['c1', 'a, b', 5], ','); // 'c1,"a, b",5'
 * ```
 */
export function formatCsvRecord(values: readonly unknown[], delimiter: string): string {
  return values
    .map((v) => {
      const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      return s.includes(delimiter) || /["\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(delimiter);
}
