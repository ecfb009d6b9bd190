import fc from 'fast-check';
import t from 'tap';
import { parse } from 'yaml';
import type { YamlMap } from '../../../src/providers/yaml-parameter.ts';
import { quoted, yamlList, yamlListOfDocuments, yamlMap } from '../../../src/providers/yaml-parameter.ts';

function parseBoth(text: string): unknown {
  const v12 = parse(text) as unknown;
  const v11 = parse(text, { version: '1.1' }) as unknown;
  if (JSON.stringify(v11) !== JSON.stringify(v12)) throw new Error(`YAML 1.1 and 1.2 disagree on ${JSON.stringify(text)}`);
  return v12;
}

t.test('quoted strings stay strings', async (t) => {
  for (const value of ['true', 'no', '0600', '1e3', 'null', '~', '', ' ', '- x', 'a: b', '#c', "'", '"', '\\', 'line\nbreak', '\t', '\u0085', '\u007f', '\u009f', '\ufeff', '\ufffe', '\ud800', '😀']) {
    t.equal(parseBoth(`v: ${quoted(value)}`) && (parseBoth(`v: ${quoted(value)}`) as { v: unknown }).v, value, JSON.stringify(value));
  }
  t.equal(quoted('\u0080'), '"\\u0080"', 'C1 controls are escaped');
  t.equal(quoted('\u0085'), '"\u0085"', 'NEL is printable in YAML and kept');
});

t.test('lists, nested lists and documents have a fixed layout', async (t) => {
  t.equal(
    yamlList([{ objectName: 'a', jmesPath: [{ path: 'p', objectAlias: 'x' }], objectAlias: undefined }, { objectName: 'b', empty: [] }]),
    '- objectName: "a"\n  jmesPath:\n    - path: "p"\n      objectAlias: "x"\n- objectName: "b"\n  empty: []\n',
  );
  t.equal(yamlList([]), '[]\n');
  t.equal(yamlList([{}]), '- {}\n');
  t.equal(yamlMap({ a: '1', b: '2' }), 'a: "1"\nb: "2"\n');
  t.equal(yamlListOfDocuments('array', ['a: "1"\nb: "2"\n']), 'array:\n  - |\n    a: "1"\n    b: "2"\n');
  t.equal(yamlListOfDocuments('array', []), 'array: []\n');
  t.throws(() => yamlList([{ 'bad key': 'x' }]), /not a plain YAML key/);
});

// Any text at all, including controls, lone surrogates and astral characters.
const anyText = fc.string({ unit: 'binary', maxLength: 24 });
// Keys are the providers' field names (written by the mappings, never taken from input).
const key = fc.constantFrom(
  'objectName', 'objectType', 'objectAlias', 'objectVersion', 'objectVersionLabel', 'jmesPath', 'path',
  'secretPath', 'secretKey', 'resourceName', 'extractJSONKey', 'array',
);
const flatMap = fc.dictionary(key, anyText, { maxKeys: 4 });
const nestedMap: fc.Arbitrary<Record<string, string | Record<string, string>[]>> = fc.dictionary(
  key,
  fc.oneof(anyText, fc.array(flatMap, { maxLength: 3 })),
  { maxKeys: 4 },
);

t.test('any list of maps parses back to itself, as YAML 1.1 and 1.2', async (t) => {
  fc.assert(
    fc.property(fc.array(nestedMap, { maxLength: 5 }), (items) => {
      t.same(parseBoth(yamlList(items as readonly YamlMap[])), items);
    }),
    { numRuns: 300 },
  );
});

t.test('any list of documents parses back to the documents and their maps', async (t) => {
  fc.assert(
    fc.property(fc.array(flatMap, { maxLength: 4 }), (maps) => {
      const documents = maps.map((map) => yamlMap(map));
      const outer = parseBoth(yamlListOfDocuments('array', documents)) as { array: string[] };
      t.same(outer.array, documents);
      t.same(outer.array.map((document) => parseBoth(document) ?? {}), maps);
    }),
    { numRuns: 300 },
  );
});
