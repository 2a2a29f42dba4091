/**
 * CSV helpers for the file and stdio connectors (RFC 4180: quoted fields may hold the
 * delimiter, doubled quotes and line breaks).
 */

/**
 * True when `text` ends inside a quoted field, so the record continues on the next line.
 *
 * @example
 * ```ts
 * csvRecordOpen('a,"b'); // true
 * ```
 */
export function csvRecordOpen(text: string): boolean {
  let quotes = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 34) quotes++;
  return quotes % 2 === 1;
}

/**
 * Splits one CSV record into fields.
 *
 * @example
 * ```ts
 * parseCsvRecord('1,"a, b","say ""hi"""', ','); // ['1', 'a, b', 'say "hi"']
 * ```
 */
export function parseCsvRecord(record: string, delimiter: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < record.length; i++) {
    const c = record[i];
    if (quoted) {
      if (c === '"') {
        if (record[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (record.startsWith(delimiter, i)) {
      fields.push(field);
      field = '';
      i += delimiter.length - 1;
    } else field += c;
  }
  fields.push(field);
  return fields;
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
