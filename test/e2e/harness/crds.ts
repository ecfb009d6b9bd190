// The upstream CustomResourceDefinitions the product creates objects for, taken unmodified from
// their Go modules (through the Go module proxy), else from the pinned copies in ../shared/crds.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedCrdsDir } from '../../support/crds.ts';
import { kubectlOk, run } from './kubectl.ts';

interface CrdModule {
  readonly module: string;
  readonly version: string;
  readonly dir: string;
  readonly files: readonly string[];
}

// ESO serves external-secrets.io/v1 since 0.17; v1.3.x is the newest line the proxy serves whole.
const externalSecrets: CrdModule = {
  module: 'github.com/external-secrets/external-secrets',
  version: 'v1.3.2',
  dir: 'config/crds/bases',
  files: [
    'external-secrets.io_externalsecrets.yaml',
    'external-secrets.io_secretstores.yaml',
    'external-secrets.io_clustersecretstores.yaml',
  ],
};

const secretsStoreCsiDriver: CrdModule = {
  module: 'sigs.k8s.io/secrets-store-csi-driver',
  version: 'v1.6.0',
  dir: 'config/crd/bases',
  files: ['secrets-store.csi.x-k8s.io_secretproviderclasses.yaml'],
};

export const crdNames = [
  'externalsecrets.external-secrets.io',
  'secretstores.external-secrets.io',
  'clustersecretstores.external-secrets.io',
  'secretproviderclasses.secrets-store.csi.x-k8s.io',
] as const;

export interface CrdFiles {
  readonly files: readonly string[];
  /** Human-readable origin, printed by the runner. */
  readonly source: string;
}

function pinnedCrdsDir(): string | undefined {
  try {
    return sharedCrdsDir();
  } catch {
    return undefined;
  }
}

async function moduleDir(crds: CrdModule): Promise<string | undefined> {
  const result = await run('go', ['mod', 'download', '-json', `${crds.module}@${crds.version}`], {
    cwd: tmpdir(),
    env: { ...process.env, GOFLAGS: '-mod=mod' },
    timeoutMs: 300_000,
  }).catch(() => undefined); // No Go toolchain: the pinned copies will do.
  if (result === undefined || result.code !== 0) return undefined;
  const dir = (JSON.parse(result.stdout) as { Dir?: string }).Dir;
  if (dir === undefined) return undefined;
  const all = crds.files.map((file) => join(dir, crds.dir, file));
  return all.every((file) => existsSync(file)) ? join(dir, crds.dir) : undefined;
}

/**
 * Finds the CRD files: each project's Go module first, the shared pinned copies otherwise (or
 * only, with HYBRID_SECRETS_E2E_CRDS=pinned: they are newer releases than the proxy serves whole).
 */
export async function locateCrds(repoRoot: string): Promise<CrdFiles> {
  const files: string[] = [];
  const sources: string[] = [];
  const sharedDir = pinnedCrdsDir();
  const pinnedOnly = process.env['HYBRID_SECRETS_E2E_CRDS'] === 'pinned';
  for (const crds of [externalSecrets, secretsStoreCsiDriver]) {
    const dir = pinnedOnly ? undefined : await moduleDir(crds);
    if (dir !== undefined) {
      files.push(...crds.files.map((file) => join(dir, file)));
      sources.push(`${crds.module}@${crds.version} (Go module)`);
      continue;
    }
    const pinned = crds.files.map((file) => join(sharedDir ?? '', file));
    if (sharedDir === undefined || !pinned.every((file) => existsSync(file))) {
      throw new Error(`CRDs of ${crds.module}: neither its Go module nor ../shared/crds beside ${repoRoot} could be read`);
    }
    files.push(...pinned);
    sources.push(`${crds.module} (pinned copies in ${sharedDir})`);
  }
  return { files, source: sources.join(', ') };
}

/** Applies the CRDs (server-side: they exceed the client-side apply annotation limit) and waits until established. */
export async function installCrds(kubeconfig: string, crds: CrdFiles): Promise<void> {
  await kubectlOk(kubeconfig, ['apply', '--server-side', ...crds.files.flatMap((file) => ['-f', file])]);
  await kubectlOk(kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', ...crdNames.map((name) => `crd/${name}`)]);
}
