// Offline injection of multi-document YAML: mutate every selected pod template exactly as the
// webhook would and append the generated objects. Pure (text in, text out). Documents that need
// no change are copied byte for byte; changed ones keep their comments and layout where the YAML
// library can (the patch is applied to the YAML tree, not to a re-serialised object).
import type { Operation } from 'fast-json-patch';
import { parseAllDocuments, stringify } from 'yaml';
import type { Document } from 'yaml';
import { planInjection } from '../core/plan.ts';
import type { InjectionConfig, KubeObject } from '../core/types.ts';
import { isRecord } from '../core/values.ts';
import type { StoreCatalog } from '../stores/types.ts';
import { podTemplates } from './workloads.ts';
import type { YamlPath } from './workloads.ts';

export interface InjectOptions {
  /** Shown in messages (`<stdin>` for standard input). */
  readonly file: string;
  /** Namespace of documents that name none. */
  readonly namespace: string;
}

export type InjectResult =
  | { readonly ok: true; readonly output: string; readonly warnings: readonly string[]; readonly injected: number }
  | { readonly ok: false; readonly errors: readonly string[]; readonly warnings: readonly string[] };

const GENERATED_KINDS = new Set(['ExternalSecret', 'SecretProviderClass']);

export function injectManifests(
  source: string,
  catalog: StoreCatalog,
  config: InjectionConfig,
  options: InjectOptions,
): InjectResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const documents = parseAllDocuments(source, { uniqueKeys: true });
  const parsed: Document.Parsed[] = documents;
  // Each document owns the source text from its start to the next document's start, so the
  // segments concatenate back to the exact input.
  const starts = parsed.map((document, index) => (index === 0 ? 0 : document.range[0]));
  const segments = parsed.map((_, index) => source.slice(starts[index], starts[index + 1] ?? source.length));
  if (parsed.length === 0) segments.push(source);

  const existing = new Set<string>();
  const generated = new Map<string, KubeObject>();
  const output: string[] = [];
  let injected = 0;

  parsed.forEach((document, index) => {
    const where = `${options.file}: document ${index + 1}`;
    if (document.errors.length > 0) {
      for (const error of document.errors) errors.push(`${where}: invalid YAML: ${error.message.split('\n')[0]}`);
      return;
    }
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    for (const object of isRecord(value) && value.kind === 'List' && Array.isArray(value.items) ? value.items : [value]) {
      if (isRecord(object) && GENERATED_KINDS.has(String(object.kind))) existing.add(objectKey(object));
    }

    let changed = false;
    for (const location of podTemplates(value)) {
      const metadata = isRecord(location.object.metadata) ? location.object.metadata : {};
      const item = location.path[0] === 'items' && typeof location.path[1] === 'number' ? `, item ${location.path[1] + 1}` : '';
      const label = `${where}${item} (${String(location.object.kind)}/${typeof metadata.name === 'string' ? metadata.name : typeof metadata.generateName === 'string' ? metadata.generateName : '<unnamed>'})`;
      const namespace = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : options.namespace;
      const plan = planInjection(
        { pod: location.template, namespace, ...(location.workload !== undefined && { workload: location.workload }) },
        catalog,
        config,
      );
      if (plan.action === 'skip') continue;
      for (const warning of plan.warnings) warnings.push(`${label}: warning: ${warning}`);
      if (plan.action === 'deny') {
        for (const problem of plan.problems) errors.push(`${label}: ${problem.field}: ${problem.message}`);
        continue;
      }
      applyToYaml(document, location.path, plan.patch);
      changed = true;
      injected += 1;
      for (const object of [plan.objects.externalSecret, plan.objects.secretProviderClass]) {
        generated.set(objectKey(object), object);
      }
    }
    output.push(changed ? rendered(document, index) : (segments[index] ?? ''));
  });
  if (parsed.length === 0) output.push(source);

  if (errors.length > 0) return { ok: false, errors, warnings };
  let text = output.join('');
  for (const [key, object] of generated) {
    if (existing.has(key)) continue;
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    text += `---\n${stringify(object, { lineWidth: 0 })}`;
  }
  return { ok: true, output: text, warnings, injected };
}

function objectKey(object: Record<string, unknown> | KubeObject): string {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  return `${String(object.kind)}/${String(metadata.namespace ?? '')}/${String(metadata.name ?? '')}`;
}

/** A changed document, re-serialised; keeps its `---` separator when it is not the first. */
function rendered(document: Document.Parsed, index: number): string {
  const text = document.toString({ lineWidth: 0 });
  return index > 0 && !text.startsWith('---') ? `---\n${text}` : text;
}

/** Applies the core's `add` operations (the only kind it emits) to the YAML tree under `prefix`. */
function applyToYaml(document: Document.Parsed, prefix: YamlPath, patch: readonly Operation[]): void {
  for (const operation of patch) {
    if (operation.op !== 'add') throw new Error(`unexpected patch operation ${operation.op}`);
    const segments = operation.path.split('/').slice(1).map(unescapePointer);
    const last = segments.at(-1);
    const parent = [...prefix, ...segments.slice(0, -1).map(toIndex)];
    const node = document.createNode(operation.value);
    if (last === '-') document.addIn(parent, node);
    else document.setIn([...parent, last ?? ''], node);
  }
}

function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

function toIndex(segment: string): string | number {
  return /^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : segment;
}
