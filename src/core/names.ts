// Deterministic names of generated objects: `<workload>-<hash>` (DESIGN.md §4). Pure.
import { createHash } from 'node:crypto';
import type { CsiProviderSpec } from '../providers/types.ts';
import type { ExternalSecretData } from '../render/objects.ts';
import type { OwnerRef } from './types.ts';
import { isRecord, isStringMap } from './values.ts';

const HASH_LENGTH = 10;
/** DNS-1123 label length: the name is also used as a label value. */
const NAME_MAX = 63;
const WORKLOAD_IN_NAME_MAX = NAME_MAX - HASH_LENGTH - 1;
const FALLBACK_WORKLOAD = 'pod';

/**
 * First 10 hex characters of the SHA-256 of the rendered specs in a canonical encoding: a JSON
 * array whose field order is fixed here and whose map keys (the CSI parameters) are sorted.
 * Names are not part of it, so equal specs always get the same name. One native JSON.stringify
 * of plain arrays: this runs for every admitted pod.
 */
export function specHash(externalSecret: ExternalSecretData, csi: CsiProviderSpec): string {
  const canonical = JSON.stringify([
    externalSecret.secretStoreRef.kind,
    externalSecret.secretStoreRef.name,
    externalSecret.refreshInterval,
    externalSecret.data.map(({ secretKey, remoteRef }) => [secretKey, remoteRef.key, remoteRef.property ?? null, remoteRef.version ?? null]),
    csi.provider,
    Object.keys(csi.parameters)
      .sort()
      .map((key) => [key, csi.parameters[key]]),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, HASH_LENGTH);
}

/** The pod's controller reference, when it carries the fields an owner reference needs. */
export function controllerOf(metadata: Record<string, unknown>): OwnerRef | undefined {
  const refs = metadata.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  for (const ref of refs) {
    if (!isRecord(ref) || ref.controller !== true) continue;
    const { apiVersion, kind, name, uid } = ref;
    if (typeof apiVersion === 'string' && typeof kind === 'string' && typeof name === 'string' && typeof uid === 'string') {
      return { apiVersion, kind, name, uid };
    }
  }
  return undefined;
}

/**
 * The workload a pod belongs to: its controller (a Deployment's ReplicaSet maps back to the
 * Deployment through the `pod-template-hash` label), else the pod's own name or generateName.
 */
export function workloadOf(metadata: Record<string, unknown>, owner: OwnerRef | undefined): string {
  if (owner !== undefined) {
    const labels = isStringMap(metadata.labels) ? metadata.labels : {};
    const templateHash = labels['pod-template-hash'];
    if (owner.kind === 'ReplicaSet' && templateHash !== undefined && owner.name.endsWith(`-${templateHash}`)) {
      return owner.name.slice(0, -templateHash.length - 1);
    }
    return owner.name;
  }
  if (typeof metadata.name === 'string' && metadata.name !== '') return metadata.name;
  if (typeof metadata.generateName === 'string') return metadata.generateName.replace(/-+$/, '');
  return '';
}

/** A DNS-1123 label of at most 63 characters (also a valid label value); never empty. */
export function workloadLabel(workload: string): string {
  return toDnsLabel(workload, NAME_MAX);
}

/** `<workload>-<hash>`, at most 63 characters: the workload part is shortened, the hash kept. */
export function generatedName(workload: string, hash: string): string {
  return `${toDnsLabel(workload, WORKLOAD_IN_NAME_MAX)}-${hash}`;
}

function toDnsLabel(value: string, maxLength: number): string {
  const label = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, maxLength)
    .replace(/^-+|-+$/g, '');
  return label === '' ? FALLBACK_WORKLOAD : label;
}
