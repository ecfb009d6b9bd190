// Golden files for provider results: test/golden/providers/<name>.yaml.
// UPDATE_GOLDEN=1 rewrites them from the current output; review the diff before committing.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { stringify } from 'yaml';
import type { CsiProviderResult } from '../../../../src/providers/types.ts';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../golden/providers');

/** The result as a reviewable document: multi-line parameters appear as YAML block literals. */
export function renderResult(result: CsiProviderResult): string {
  return stringify(result.ok ? result.spec : { problems: result.problems }, { lineWidth: 0 });
}

export function matchGolden(t: Test, name: string, result: CsiProviderResult): void {
  const file = join(GOLDEN_DIR, `${name}.yaml`);
  const actual = renderResult(result);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
  }
  if (!existsSync(file)) {
    t.fail(`golden file ${file} is missing; run with UPDATE_GOLDEN=1 to create it`);
    return;
  }
  t.equal(actual, readFileSync(file, 'utf8'), `matches golden/providers/${name}.yaml`);
}
