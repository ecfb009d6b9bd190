import fc from 'fast-check';
import secureJson from 'secure-json-parse';
import t from 'tap';
import { parseJsonBody } from '../../../src/server/json-body.ts';

/** What a parser makes of a text: the value, or that it refused it. */
function outcome(parse: (text: string) => unknown, text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parse(text) };
  } catch {
    return { ok: false };
  }
}

t.test('prototype-poisoning keys are refused however they are spelled', async (t) => {
  const refused = [
    '{"__proto__":{"polluted":true}}',
    '{"a":[{"__proto__":{}}]}',
    '{"\\u005f_proto__":{}}',
    '{"_\\u005Fproto\\u005f_":{}}',
    '{"__pr\\u006fto__":{}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"a":{"\\u0063onstructor":{"prototype":{}}}}',
    '{"constr\\u0075ctor":{"prototype":{}}}',
    '\ufeff{"__proto__":{}}',
  ];
  for (const text of refused) t.throws(() => parseJsonBody(text), SyntaxError, text);
});

t.test('ordinary bodies parse as JSON.parse parses them, escapes and all', async (t) => {
  const accepted = [
    '{"apiVersion":"admission.k8s.io/v1","request":{"uid":"1"}}',
    '{"env":[{"name":"URL","value":"https://x/?a=1\\u0026b=2 \\u003cok\\u003e"}]}',
    '{"constructor":"a string is harmless"}',
    '{"note":"mentions __proto__ in a value"}',
    '\ufeff{"bom":true}',
    '[1,2,3]',
    '"text"',
    'null',
  ];
  for (const text of accepted) t.same(parseJsonBody(text), secureJson.parse(text), text);
  t.throws(() => parseJsonBody('{"a":'), SyntaxError);
});

t.test('the answer equals secure-json-parse\'s for any document with suspicious keys', async () => {
  // Keys and strings drawn to hit every branch: forbidden words, their \u spellings, HTML escapes.
  const spelled = fc.constantFrom(
    '__proto__', '\\u005f_proto__', '__pr\\u006fto__', 'constructor', 'c\\u006fnstructor', 'prototype',
    'name', 'value', 'a\\u0026b', '\\u003cx\\u003e', '\\\\u005f', 'prot', 'constructo',
  );
  const key = fc.oneof(spelled, fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s).slice(1, -1)));
  const json: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom('1', 'true', 'null', '"s"'),
      key.map((k) => `"${k}"`),
      fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
      fc.array(fc.tuple(key, tie('value')), { maxLength: 3 }).map((entries) => `{${entries.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
    ),
  })).value;
  fc.assert(
    fc.property(json, fc.boolean(), (text, bom) => {
      const body = bom ? `\ufeff${text}` : text;
      const expected = outcome((text) => secureJson.parse(text), body);
      const actual = outcome(parseJsonBody, body);
      if (expected.ok !== actual.ok) throw new Error(`${body}: secure-json-parse ${expected.ok ? 'accepts' : 'refuses'}, parseJsonBody does not`);
      if (expected.ok && actual.ok && JSON.stringify(expected.value) !== JSON.stringify(actual.value)) throw new Error(`${body}: values differ`);
    }),
    { numRuns: 3000 },
  );
});
