// The YAML text of SecretProviderClass list parameters (`objects`, `secrets`). Pure.
//
// The values are small lists of flat string maps (AWS adds one nested list), rendered on every
// admission, so they are written directly instead of through a YAML document model, which costs
// about 25 times more here. Every string is a double-quoted scalar: a JSON string literal is one,
// once the characters YAML does not allow unescaped are escaped too, and then no provider's parser
// (YAML 1.1 or 1.2) reads `true`, `0600` or `1e3` as anything but a string.

/** A map whose values are strings or lists of such maps; keys are plain identifiers. */
export interface YamlMap {
  readonly [key: string]: string | readonly YamlMap[] | undefined;
}

// Outside YAML's printable set, and left raw by JSON.stringify: DEL, C1 controls except NEL,
// U+FFFE and U+FFFF. (JSON.stringify escapes C0 controls and lone surrogates itself.)
const NOT_PRINTABLE = /[\u007f-\u0084\u0086-\u009f\ufffe\uffff]/g;

/** A YAML double-quoted scalar holding exactly `value`. */
export function quoted(value: string): string {
  return JSON.stringify(value).replace(
    NOT_PRINTABLE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const PLAIN_KEY = /^[A-Za-z][A-Za-z0-9]*$/;

/** Writes `map` with `firstPrefix` before its first key and `restPrefix` before the others. */
function writeMap(map: YamlMap, firstPrefix: string, restPrefix: string, lines: string[]): void {
  let written = 0;
  for (const [key, value] of Object.entries(map)) {
    if (value === undefined) continue;
    // Keys come from the mapping code, never from input.
    if (!PLAIN_KEY.test(key)) throw new Error(`not a plain YAML key: ${key}`);
    const prefix = written === 0 ? firstPrefix : restPrefix;
    written += 1;
    if (typeof value === 'string') {
      lines.push(`${prefix}${key}: ${quoted(value)}`);
    } else if (value.length === 0) {
      lines.push(`${prefix}${key}: []`);
    } else {
      lines.push(`${prefix}${key}:`);
      writeList(value, `${restPrefix}  `, lines);
    }
  }
  if (written === 0) lines.push(`${firstPrefix}{}`);
}

function writeList(items: readonly YamlMap[], indent: string, lines: string[]): void {
  for (const item of items) writeMap(item, `${indent}- `, `${indent}  `, lines);
}

/** A block-style YAML sequence of maps, one key per line, in the maps' key order. */
export function yamlList(items: readonly YamlMap[]): string {
  if (items.length === 0) return '[]\n';
  const lines: string[] = [];
  writeList(items, '', lines);
  return `${lines.join('\n')}\n`;
}

/** A block-style YAML map, one key per line, in the map's key order. */
export function yamlMap(map: YamlMap): string {
  const lines: string[] = [];
  writeMap(map, '', '', lines);
  return `${lines.join('\n')}\n`;
}

/**
 * `<key>:` followed by a sequence of block literals, each holding one YAML document: the
 * `array:` form of the Azure provider's `objects`. The documents hold only double-quoted scalars,
 * so every line is printable and none starts with a space.
 */
export function yamlListOfDocuments(key: string, documents: readonly string[]): string {
  if (!PLAIN_KEY.test(key)) throw new Error(`not a plain YAML key: ${key}`);
  if (documents.length === 0) return `${key}: []\n`;
  const items = documents.map((document) => {
    const body = document.endsWith('\n') ? document.slice(0, -1) : document;
    return `  - |\n${body
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n')}`;
  });
  return `${key}:\n${items.join('\n')}\n`;
}
