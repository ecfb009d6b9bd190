// The JSON body parser for reviews. Fastify's default (secure-json-parse) scans every body with
// two regular expressions for `__proto__` and `constructor` keys: about a tenth of the CPU of a
// review (docs/performance.md). A key can only spell those words with their letters or with
// \u escapes of them, so a body with neither goes straight to JSON.parse; any other body still
// goes through secure-json-parse, which refuses such keys. The answers are the same either way.
import { errorCodes, type FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';

const BYTE_ORDER_MARK = 0xfeff;
/** `\u` escapes of `_ c n o p r s t u`, the letters of the two forbidden keys. */
const ESCAPED_KEY_LETTER = /\\u00(?:5[Ff]|6[3EeFf]|7[0-5])/;

/** Parses an untrusted JSON text, refusing prototype-poisoning keys as secure-json-parse does. */
export function parseJsonBody(text: string): unknown {
  return mayHideForbiddenKey(text) ? secureJson.parse(text) : JSON.parse(text);
}

/** True unless the text certainly holds no `__proto__` or `constructor` key (nor a BOM to strip). */
function mayHideForbiddenKey(text: string): boolean {
  return (
    text.charCodeAt(0) === BYTE_ORDER_MARK ||
    text.includes('__proto__') ||
    text.includes('constructor') ||
    (text.includes('\\u') && ESCAPED_KEY_LETTER.test(text))
  );
}

/** Replaces fastify's `application/json` parser with parseJsonBody, keeping its error codes. */
export function useJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = parseJsonBody(text);
    } catch {
      done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
      return;
    }
    done(null, parsed);
  });
}
