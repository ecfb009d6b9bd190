// The one pure entry point shared by the webhook, `inject` and the reconciler:
// pod (or pod template) + stores + configuration → skip | deny (every problem) | inject.
import type { Operation } from 'fast-json-patch';
import {
  isSelected,
  parseContract,
  STATUS_ANNOTATION,
  STATUS_INJECTED,
  STORE_ANNOTATION,
  STORE_KIND_ANNOTATION,
  type ParsedContract,
} from '../contract/parse.ts';
import { ANNOTATION_PREFIX, type InjectionRequest, type Problem, type StoreRef } from '../contract/types.ts';
import { mapToCsi } from '../providers/index.ts';
import type { CsiProviderSpec } from '../providers/types.ts';
import { externalSecretData, renderExternalSecret, renderSecretProviderClass } from '../render/objects.ts';
import { podPatch, podPatchShape, VOLUME_NAME } from '../render/pod-patch.ts';
import { resolveStore } from '../stores/access.ts';
import type { StoreCatalog } from '../stores/types.ts';
import { LruMap } from './lru.ts';
import { controllerOf, generatedName, specHash, workloadLabel, workloadOf } from './names.ts';
import { hasItemWith, readPod, selectTargets, type ContainerView, type PodView } from './pod.ts';
import type { GeneratedObjects, InjectionConfig, InjectionPlan, InjectionTarget, OwnerRef } from './types.ts';

export function planInjection(target: InjectionTarget, catalog: StoreCatalog, config: InjectionConfig): InjectionPlan {
  const { pod, problems: podProblems } = readPod(target.pod);
  if (!isSelected(pod.annotations)) return { action: 'skip', reason: 'not-selected' };

  const injected = pod.annotations[STATUS_ANNOTATION] === STATUS_INJECTED;
  const hasVolume = hasItemWith(pod.volumes, 'name', VOLUME_NAME);
  if (injected && hasVolume) return { action: 'skip', reason: 'already-injected' };

  const owner = controllerOf(pod.metadata);
  const workload = target.workload ?? workloadOf(pod.metadata, owner);
  const memo = sharedPlan({ annotations: pod.annotations, namespace: target.namespace, workload, owner }, catalog, config);
  const shared = memo.plan;
  const { contract } = shared;
  const problems: Problem[] = [...podProblems, ...contract.problems];
  if (hasVolume) {
    problems.push({
      field: 'spec.volumes',
      message: `the pod already has a volume named '${VOLUME_NAME}' but is not marked ${STATUS_ANNOTATION}: ${STATUS_INJECTED}; rename that volume`,
    });
  }
  const { targets, problems: targetProblems } = selectTargets(contract.request, pod);
  problems.push(...targetProblems, ...shared.storeProblems);

  const { generated } = shared;
  if (problems.length > 0 || generated === undefined) {
    return { action: 'deny', problems, warnings: contract.warnings };
  }
  return {
    action: 'inject',
    patch: memoisedPodPatch(memo.patches, pod, generated, targets),
    objects: generated.objects,
    warnings: contract.warnings,
    store: generated.request.store,
  };
}

/** Everything a plan reads that is not the pod's containers and volumes. */
interface SharedInput {
  readonly annotations: Readonly<Record<string, string>>;
  readonly namespace: string;
  readonly workload: string;
  readonly owner: OwnerRef | undefined;
}

/**
 * The part of a plan that pods with the same annotations, namespace and workload share: the
 * contract, the store and its CSI mapping, the generated objects and their hash.
 */
interface SharedPlan {
  readonly contract: ParsedContract;
  /** From resolving the store and mapping it to a CSI provider, in that order. */
  readonly storeProblems: readonly Problem[];
  /** Present when the store resolved and mapped; `request.store` is the resolved store. */
  readonly generated?: { readonly request: InjectionRequest & { readonly store: StoreRef }; readonly objects: GeneratedObjects };
}

function computeSharedPlan(input: SharedInput, catalog: StoreCatalog, config: InjectionConfig): SharedPlan {
  const contract = parseContract(input.annotations);
  // A store annotation that failed its rules must not fall back to the default store.
  const storeRejected = contract.problems.some((p) => p.field === STORE_ANNOTATION || p.field === STORE_KIND_ANNOTATION);
  if (storeRejected) return { contract, storeProblems: [] };
  const resolution = resolveStore(contract.request.store, config.defaultStore, input.namespace, catalog);
  if (!resolution.ok) return { contract, storeProblems: [resolution.problem] };
  if (contract.request.secrets.length === 0) return { contract, storeProblems: [] };

  const request = { ...contract.request, store: resolution.ref };
  const mapped = mapToCsi(resolution.store, request, config);
  if (!mapped.ok) return { contract, storeProblems: mapped.problems };
  const csi: CsiProviderSpec = mapped.spec;

  const esData = externalSecretData(request, resolution.ref);
  const hash = specHash(esData, csi);
  const { owner } = input;
  const identity = {
    name: generatedName(input.workload, hash),
    namespace: input.namespace,
    specHash: hash,
    workloadLabel: workloadLabel(input.workload),
    ...(owner !== undefined && { owner }),
  };
  const objects: GeneratedObjects = {
    name: identity.name,
    namespace: identity.namespace,
    specHash: hash,
    workload: identity.workloadLabel,
    ...(owner !== undefined && { owner }),
    externalSecret: renderExternalSecret(identity, esData),
    secretProviderClass: renderSecretProviderClass(identity, csi),
  };
  return { contract, storeProblems: [], generated: { request, objects } };
}

// Memo of shared plans. The pods of one rollout ask for the same objects, and computing them
// (contract, provider parameters, rendering, hash) is most of a plan's cost. Bounded, and only
// for catalogs that say when they change (StoreCatalog.generation): any change drops it all.
// One entry per namespace and workload, holding the owner and annotations it was computed from:
// comparing them is cheaper than hashing them into a key, and a workload's pods share them.
const SHARED_PLANS_MAX = 1024;
/** Pod shapes remembered per shared plan (a workload's pods normally have one). */
const PATCH_SHAPES_MAX = 8;
interface MemoEntry {
  readonly owner: OwnerRef | undefined;
  /** The `hybrid-secrets.io/*` annotations, as alternating keys and values in pod order. */
  readonly annotations: readonly string[];
  readonly plan: SharedPlan;
  /** Patches by podPatchShape, frozen: the encoded patch is reused by identity (review.ts). */
  readonly patches: LruMap<string, readonly Operation[]>;
}
interface SharedPlanMemo {
  readonly config: InjectionConfig;
  generation: number;
  readonly entries: LruMap<string, MemoEntry>;
}
const memos = new WeakMap<StoreCatalog, SharedPlanMemo>();

/** The shared plan, and the memo of its patches when it came from (or went into) the memo. */
function sharedPlan(
  input: SharedInput,
  catalog: StoreCatalog,
  config: InjectionConfig,
): { readonly plan: SharedPlan; readonly patches?: MemoEntry['patches'] } {
  const { generation } = catalog;
  if (generation === undefined) return { plan: computeSharedPlan(input, catalog, config) };
  let memo = memos.get(catalog);
  if (memo === undefined || memo.config !== config) {
    memo = { config, generation, entries: new LruMap(SHARED_PLANS_MAX) };
    memos.set(catalog, memo);
  } else if (memo.generation !== generation) {
    memo.entries.clear();
    memo.generation = generation;
  }
  const { namespace, workload, owner, annotations } = input;
  // The length prefix keeps the key unambiguous for any strings (pod metadata is unchecked here).
  const key = `${namespace.length}:${namespace}${workload}`;
  const entry = memo.entries.get(key);
  if (entry !== undefined && sameOwner(entry.owner, owner) && sameContractAnnotations(entry.annotations, annotations)) return entry;
  // Frozen: every review of the workload gets these objects, so nobody may change them.
  const plan = deepFreeze(computeSharedPlan(input, catalog, config));
  const created: MemoEntry = { owner, annotations: contractAnnotations(annotations), plan, patches: new LruMap(PATCH_SHAPES_MAX) };
  memo.entries.set(key, created);
  return created;
}

function memoisedPodPatch(
  patches: MemoEntry['patches'] | undefined,
  pod: PodView,
  generated: NonNullable<SharedPlan['generated']>,
  targets: readonly ContainerView[],
): readonly Operation[] {
  const fresh = () => podPatch(pod, generated.request, targets, generated.objects.name);
  if (patches === undefined) return fresh();
  const shape = podPatchShape(pod, targets);
  let patch = patches.get(shape);
  if (patch === undefined) {
    patch = deepFreeze(fresh());
    patches.set(shape, patch);
  }
  return patch;
}

/** Only the `hybrid-secrets.io/*` annotations are read by the contract. */
function contractAnnotations(annotations: Readonly<Record<string, string>>): string[] {
  const pairs: string[] = [];
  for (const key of Object.keys(annotations)) {
    if (key.startsWith(ANNOTATION_PREFIX)) pairs.push(key, annotations[key]!);
  }
  return pairs;
}

function sameOwner(a: OwnerRef | undefined, b: OwnerRef | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.uid === b.uid && a.name === b.name && a.kind === b.kind && a.apiVersion === b.apiVersion;
}

function sameContractAnnotations(pairs: readonly string[], annotations: Readonly<Record<string, string>>): boolean {
  let index = 0;
  for (const key of Object.keys(annotations)) {
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    if (pairs[index] !== key || pairs[index + 1] !== annotations[key]) return false;
    index += 2;
  }
  return index === pairs.length;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
