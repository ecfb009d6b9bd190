// The one pure entry point shared by the webhook, `inject` and the reconciler:
// pod (or pod template) + stores + configuration → skip | deny (every problem) | inject.
import {
  isSelected,
  parseContract,
  STATUS_ANNOTATION,
  STATUS_INJECTED,
  STORE_ANNOTATION,
  STORE_KIND_ANNOTATION,
} from '../contract/parse.ts';
import type { InjectionRequest, Problem } from '../contract/types.ts';
import { mapToCsi } from '../providers/index.ts';
import type { CsiProviderSpec } from '../providers/types.ts';
import { externalSecretData, renderExternalSecret, renderSecretProviderClass } from '../render/objects.ts';
import { podPatch, VOLUME_NAME } from '../render/pod-patch.ts';
import { resolveStore } from '../stores/access.ts';
import type { StoreCatalog } from '../stores/types.ts';
import { controllerOf, generatedName, specHash, workloadLabel, workloadOf } from './names.ts';
import { readPod, selectTargets } from './pod.ts';
import type { InjectionConfig, InjectionPlan, InjectionTarget } from './types.ts';

export function planInjection(target: InjectionTarget, catalog: StoreCatalog, config: InjectionConfig): InjectionPlan {
  const { pod, problems: podProblems } = readPod(target.pod);
  if (!isSelected(pod.annotations)) return { action: 'skip', reason: 'not-selected' };

  const injected = pod.annotations[STATUS_ANNOTATION] === STATUS_INJECTED;
  const hasVolume = pod.volumeNames.includes(VOLUME_NAME);
  if (injected && hasVolume) return { action: 'skip', reason: 'already-injected' };

  const contract = parseContract(pod.annotations);
  const problems: Problem[] = [...podProblems, ...contract.problems];
  if (hasVolume) {
    problems.push({
      field: 'spec.volumes',
      message: `the pod already has a volume named '${VOLUME_NAME}' but is not marked ${STATUS_ANNOTATION}: ${STATUS_INJECTED}; rename that volume`,
    });
  }
  const { targets, problems: targetProblems } = selectTargets(contract.request, pod);
  problems.push(...targetProblems);

  // A store annotation that failed its rules must not fall back to the default store.
  const storeRejected = contract.problems.some((p) => p.field === STORE_ANNOTATION || p.field === STORE_KIND_ANNOTATION);
  const resolution = storeRejected
    ? undefined
    : resolveStore(contract.request.store, config.defaultStore, target.namespace, catalog);
  if (resolution !== undefined && !resolution.ok) problems.push(resolution.problem);

  let csi: CsiProviderSpec | undefined;
  if (resolution?.ok === true && contract.request.secrets.length > 0) {
    const mapped = mapToCsi(resolution.store, { ...contract.request, store: resolution.ref }, config);
    if (mapped.ok) csi = mapped.spec;
    else problems.push(...mapped.problems);
  }

  if (problems.length > 0 || resolution?.ok !== true || csi === undefined) {
    return { action: 'deny', problems, warnings: contract.warnings };
  }

  const request: InjectionRequest = { ...contract.request, store: resolution.ref };
  const esData = externalSecretData(request, resolution.ref);
  const hash = specHash(esData, csi);
  const owner = controllerOf(pod.metadata);
  const workload = target.workload ?? workloadOf(pod.metadata, owner);
  const identity = {
    name: generatedName(workload, hash),
    namespace: target.namespace,
    specHash: hash,
    workloadLabel: workloadLabel(workload),
    ...(owner !== undefined && { owner }),
  };
  return {
    action: 'inject',
    patch: podPatch(pod, request, targets, identity.name),
    objects: {
      name: identity.name,
      namespace: identity.namespace,
      specHash: hash,
      workload: identity.workloadLabel,
      ...(owner !== undefined && { owner }),
      externalSecret: renderExternalSecret(identity, esData),
      secretProviderClass: renderSecretProviderClass(identity, csi),
    },
    warnings: contract.warnings,
    store: resolution.ref,
  };
}
