// A StoreCatalog held in memory, loaded from YAML documents (the offline `inject` command and the
// standalone server). Loading is all-or-nothing: every error is reported with file and document.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { isDnsSubdomain } from '../contract/rules.ts';
import { isRecord, isStringList, isStringMap } from '../core/values.ts';
import type { EsoStore, StoreCatalog, StoreCondition } from './types.ts';

export interface CatalogContents {
  readonly clusterStores: readonly EsoStore[];
  readonly namespacedStores: readonly EsoStore[];
  /** Namespace name → labels, from Namespace documents. */
  readonly namespaces: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

export class MemoryStoreCatalog implements StoreCatalog {
  readonly #clusterStores = new Map<string, EsoStore>();
  readonly #namespacedStores = new Map<string, EsoStore>();
  readonly #namespaces: ReadonlyMap<string, Readonly<Record<string, string>>>;

  constructor(contents: CatalogContents) {
    for (const store of contents.clusterStores) this.#clusterStores.set(store.metadata.name, store);
    for (const store of contents.namespacedStores) {
      this.#namespacedStores.set(namespacedKey(store.metadata.namespace ?? '', store.metadata.name), store);
    }
    this.#namespaces = new Map(contents.namespaces);
  }

  clusterStore(name: string): EsoStore | undefined {
    return this.#clusterStores.get(name);
  }

  namespacedStore(namespace: string, name: string): EsoStore | undefined {
    return this.#namespacedStores.get(namespacedKey(namespace, name));
  }

  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.#namespaces.get(namespace);
  }

  /** Never changes: the contents are fixed when the catalog is built. */
  get generation(): number {
    return 0;
  }

  get size(): number {
    return this.#clusterStores.size + this.#namespacedStores.size;
  }
}

function namespacedKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export type CatalogLoad =
  | { readonly ok: true; readonly catalog: MemoryStoreCatalog }
  | { readonly ok: false; readonly errors: readonly string[] };

export interface CatalogLoadOptions {
  /** Namespace of SecretStore documents that name none (as `kubectl apply` would place them). */
  readonly defaultNamespace: string;
}

/**
 * Reads SecretStore, ClusterSecretStore and Namespace documents (also inside `kind: List`).
 * Other kinds are ignored, so a whole platform manifest can serve as the stores file.
 * Errors read `<file>: document <n> (<Kind>/<name>): <message>`, documents counted from 1.
 */
export function parseStoreCatalog(text: string, file: string, options: CatalogLoadOptions): CatalogLoad {
  const errors: string[] = [];
  const clusterStores: EsoStore[] = [];
  const namespacedStores: EsoStore[] = [];
  const namespaces = new Map<string, Readonly<Record<string, string>>>();
  const seen = new Set<string>();

  const documents = parseAllDocuments(text, { uniqueKeys: true });
  documents.forEach((document, index) => {
    const where = `${file}: document ${index + 1}`;
    if (document.errors.length > 0) {
      for (const error of document.errors) errors.push(`${where}: invalid YAML: ${error.message.split('\n')[0]}`);
      return;
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    const items = isRecord(value) && value.kind === 'List' && Array.isArray(value.items) ? value.items : [value];
    items.forEach((item: unknown, itemIndex) => {
      const itemWhere = items.length > 1 || item !== value ? `${where}, item ${itemIndex + 1}` : where;
      const object = isRecord(item) ? item : {};
      const kind = typeof object.kind === 'string' ? object.kind : '<no kind>';
      const name = isRecord(object.metadata) && typeof object.metadata.name === 'string' ? object.metadata.name : '<no name>';
      const report = (message: string): void => {
        errors.push(`${itemWhere} (${kind}/${name}): ${message}`);
      };
      if (!isRecord(item)) {
        report('not a Kubernetes object');
        return;
      }
      if (kind === 'Namespace') {
        const labels = readNamespace(object, report);
        if (labels !== undefined) namespaces.set(name, labels);
        return;
      }
      if (kind !== 'ClusterSecretStore' && kind !== 'SecretStore') return;
      const store = readStore(object, kind, options.defaultNamespace, report);
      if (store === undefined) return;
      const identity = `${kind}/${store.metadata.namespace ?? ''}/${store.metadata.name}`;
      if (seen.has(identity)) {
        report('defined twice; each store may appear once');
        return;
      }
      seen.add(identity);
      (kind === 'ClusterSecretStore' ? clusterStores : namespacedStores).push(store);
    });
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, catalog: new MemoryStoreCatalog({ clusterStores, namespacedStores, namespaces }) };
}

/** Reads and parses a stores file; rejects with every error, one per line. */
export async function loadStoreCatalogFile(path: string, options: CatalogLoadOptions): Promise<MemoryStoreCatalog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read the stores file: ${(error as Error).message}`, { cause: error });
  }
  const loaded = parseStoreCatalog(text, path, options);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  return loaded.catalog;
}

function readNamespace(
  object: Record<string, unknown>,
  report: (message: string) => void,
): Record<string, string> | undefined {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  if (typeof metadata.name !== 'string' || !isDnsSubdomain(metadata.name)) {
    report('metadata.name must be a namespace name');
    return undefined;
  }
  const labels = metadata.labels ?? {};
  if (!isStringMap(labels)) {
    report('metadata.labels must map names to strings');
    return undefined;
  }
  return { ...labels };
}

function readStore(
  object: Record<string, unknown>,
  kind: 'ClusterSecretStore' | 'SecretStore',
  defaultNamespace: string,
  report: (message: string) => void,
): EsoStore | undefined {
  let valid = true;
  const problem = (message: string): void => {
    valid = false;
    report(message);
  };
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  if (typeof metadata.name !== 'string' || !isDnsSubdomain(metadata.name)) problem('metadata.name must be a DNS subdomain');
  if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string') problem('metadata.namespace must be a string');
  if (metadata.labels !== undefined && !isStringMap(metadata.labels)) problem('metadata.labels must map names to strings');
  if (metadata.annotations !== undefined && !isStringMap(metadata.annotations)) problem('metadata.annotations must map names to strings');
  const spec = object.spec;
  if (!isRecord(spec)) {
    problem('spec is missing');
    return undefined;
  }
  const provider = spec.provider;
  if (!isRecord(provider) || Object.keys(provider).length !== 1 || !isRecord(Object.values(provider)[0])) {
    problem('spec.provider must configure exactly one provider (vault, aws, azurekv, gcpsm, …)');
  }
  const conditions = spec.conditions;
  if (conditions !== undefined && conditions !== null) {
    if (!Array.isArray(conditions)) problem('spec.conditions must be a list');
    else conditions.forEach((condition: unknown, index) => checkCondition(condition, `spec.conditions[${index}]`, problem));
  }
  if (!valid) return undefined;
  const namespace = kind === 'SecretStore' ? ((metadata.namespace as string | undefined) ?? defaultNamespace) : undefined;
  return {
    ...(typeof object.apiVersion === 'string' && { apiVersion: object.apiVersion }),
    kind,
    metadata: {
      ...(metadata as EsoStore['metadata']),
      ...(namespace !== undefined && { namespace }),
    },
    spec: {
      ...spec,
      provider: provider as Record<string, unknown>,
      ...(Array.isArray(conditions) && { conditions: conditions as StoreCondition[] }),
    },
  };
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function checkCondition(condition: unknown, field: string, problem: (message: string) => void): void {
  if (!isRecord(condition)) {
    problem(`${field} must be an object`);
    return;
  }
  const { namespaceSelector, namespaces, namespaceRegexes } = condition;
  if (namespaces !== undefined && !isStringList(namespaces)) problem(`${field}.namespaces must be a list of names`);
  if (namespaceRegexes !== undefined && !isStringList(namespaceRegexes)) {
    problem(`${field}.namespaceRegexes must be a list of regular expressions`);
  }
  if (namespaceSelector === undefined) return;
  if (!isRecord(namespaceSelector)) {
    problem(`${field}.namespaceSelector must be a label selector`);
    return;
  }
  if (namespaceSelector.matchLabels !== undefined && !isStringMap(namespaceSelector.matchLabels)) {
    problem(`${field}.namespaceSelector.matchLabels must map names to strings`);
  }
  const expressions = namespaceSelector.matchExpressions;
  if (expressions === undefined) return;
  if (!Array.isArray(expressions)) {
    problem(`${field}.namespaceSelector.matchExpressions must be a list`);
    return;
  }
  expressions.forEach((expression: unknown, index) => {
    const at = `${field}.namespaceSelector.matchExpressions[${index}]`;
    if (
      !isRecord(expression) ||
      typeof expression.key !== 'string' ||
      typeof expression.operator !== 'string' ||
      !OPERATORS.has(expression.operator) ||
      (expression.values !== undefined && !isStringList(expression.values))
    ) {
      problem(`${at} must have a key, an operator (In, NotIn, Exists, DoesNotExist) and string values`);
    }
  });
}
