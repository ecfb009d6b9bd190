// The product as the suite runs it: deploy/'s manifests rendered with kustomize and applied
// as they are (namespace, ServiceAccount, RBAC), the webhook process running locally as that
// ServiceAccount (a TokenRequest token, never the admin), and deploy/'s
// MutatingWebhookConfiguration registered with only clientConfig changed to
// https://127.0.0.1:<port>/mutate and the run's CA.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { Cluster, TestContext } from './cluster.ts';
import { eventually } from './cluster.ts';
import { kubeconfigYaml, waitUntilReady } from './control-plane.ts';
import { loadCertificateAuthority } from './pki.ts';
import { freePort } from './ports.ts';
import { startProcess, type ManagedProcess } from './processes.ts';

export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const cliEntry = join(repoRoot, 'src', 'cli.ts');

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [field: string]: unknown;
}

export interface DeployManifests {
  readonly all: readonly Manifest[];
  readonly serviceAccount: { readonly name: string; readonly namespace: string };
  readonly webhookConfiguration: Manifest;
  /** The webhook container's args in deploy/'s Deployment. */
  readonly containerArgs: readonly string[];
}

// What deploy/ runs inside the cluster; here the webhook runs as a local process instead.
const runsInCluster = new Set(['Deployment', 'Service', 'PodDisruptionBudget']);

export async function renderDeploy(kube: Cluster): Promise<DeployManifests> {
  const rendered = await kube.kubectlOk(['kustomize', join(repoRoot, 'deploy')]);
  const all = parseAllDocuments(rendered)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
  const one = (kind: string): Manifest => {
    const found = all.filter((doc) => doc.kind === kind);
    if (found.length !== 1) throw new Error(`deploy/ renders ${found.length} ${kind} objects, expected exactly one`);
    return found[0] as Manifest;
  };
  const serviceAccount = one('ServiceAccount');
  const deployment = one('Deployment') as Manifest & {
    spec: { template: { spec: { containers: Array<{ args?: string[] }> } } };
  };
  return {
    all,
    serviceAccount: { name: serviceAccount.metadata.name, namespace: serviceAccount.metadata.namespace ?? 'default' },
    webhookConfiguration: one('MutatingWebhookConfiguration'),
    containerArgs: deployment.spec.template.spec.containers[0]?.args ?? [],
  };
}

/** Applies deploy/'s namespace, ServiceAccount, RBAC and the rest, except what runs in-cluster. */
export async function installDeploy(kube: Cluster, manifests: DeployManifests): Promise<void> {
  const docs = manifests.all.filter((doc) => !runsInCluster.has(doc.kind) && doc.kind !== 'MutatingWebhookConfiguration');
  await kube.kubectlOk(['apply', '--server-side', '--field-manager=e2e', '-f', '-'], {
    input: docs.map((doc) => stringify(doc)).join('---\n'),
  });
}

/** deploy/'s MutatingWebhookConfiguration with only each webhook's clientConfig replaced. */
export function localWebhookConfiguration(manifests: DeployManifests, url: string, caPem: string): Manifest {
  const configuration = structuredClone(manifests.webhookConfiguration) as Manifest & {
    webhooks: Array<{ clientConfig: unknown }>;
  };
  for (const webhook of configuration.webhooks) {
    webhook.clientConfig = { url, caBundle: Buffer.from(caPem).toString('base64') };
  }
  return configuration;
}

/**
 * Registers the webhook at `url` and waits until the API server really calls it: a dry-run pod
 * that asks for injection without naming a secret must be answered by our webhook (denied).
 */
export async function registerWebhook(kube: Cluster, manifests: DeployManifests, url: string, probeNamespace: string): Promise<void> {
  const caPem = readFileSync(kube.state.caCertFile, 'utf8');
  await kube.kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=e2e', '-f', '-'], {
    input: stringify(localWebhookConfiguration(manifests, url, caPem)),
  });
  const probe = stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'webhook-probe', namespace: probeNamespace, annotations: { 'hybrid-secrets.io/inject': 'true' } },
    spec: { containers: [{ name: 'probe', image: 'registry.example/probe:1' }] },
  });
  await eventually(`the API server to call the webhook at ${url}`, async () => {
    const result = await kube.kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: probe });
    if (/admission webhook "[^"]+" denied the request/.test(result.stderr)) return true;
    throw new Error(result.stderr.trim() || 'the probe pod was admitted without our webhook');
  });
}

export interface RunningWebhook {
  readonly name: string;
  readonly port: number;
  /** https://127.0.0.1:<port>/mutate */
  readonly url: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** A bearer token for the ServiceAccount, from the TokenRequest API. */
export async function serviceAccountToken(kube: Cluster, account: { name: string; namespace: string }): Promise<string> {
  const token = await kube.kubectlOk(['create', 'token', account.name, `--namespace=${account.namespace}`, '--duration=2h']);
  return token.trim();
}

/**
 * Starts one webhook replica with deploy/'s container args on a free loopback port. TLS comes
 * from files signed by the run's CA instead of --tls-auto, unless `selfManagedTls` keeps
 * deploy/'s --tls-auto: then readiness is probed with the CA the webhook puts in its Secret.
 */
export async function startWebhook(
  t: TestContext,
  kube: Cluster,
  manifests: DeployManifests,
  options: {
    readonly name: string;
    readonly port?: number;
    readonly extraArgs?: readonly string[];
    readonly selfManagedTls?: { readonly secretName: string };
  },
): Promise<RunningWebhook> {
  // Logs and files per scenario file, so a failure's webhook log is easy to find.
  const scenario = basename(process.argv[1] ?? 'scenario', '.test.ts');
  const processName = `${scenario}.webhook-${options.name}`;
  const dir = join(kube.state.runDir, processName);
  mkdirSync(dir, { recursive: true });
  const caPem = readFileSync(kube.state.caCertFile, 'utf8');
  const tlsArgs: string[] = [];
  if (options.selfManagedTls === undefined) {
    const ca = loadCertificateAuthority(caPem, readFileSync(kube.state.caKeyFile, 'utf8'));
    const serving = ca.issue({ commonName: 'hybrid-secrets', usage: 'server', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] });
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    writeFileSync(certFile, serving.certPem, { mode: 0o600 });
    writeFileSync(keyFile, serving.keyPem, { mode: 0o600 });
    tlsArgs.push(`--tls-cert-file=${certFile}`, `--tls-key-file=${keyFile}`);
  }

  const token = await serviceAccountToken(kube, manifests.serviceAccount);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml({ server: kube.state.apiServerUrl, caPem, user: { token } }), { mode: 0o600 });

  const port = options.port ?? (await freePort());
  const args = [
    ...manifests.containerArgs.filter(
      (arg) => !/^--(port|host)\b/.test(arg) && (arg !== '--tls-auto' || options.selfManagedTls !== undefined),
    ),
    // Loopback only: the API server is the one caller.
    '--host=127.0.0.1',
    `--port=${port}`,
    ...tlsArgs,
    ...(options.extraArgs ?? []),
  ];
  const webhook = startProcess({
    name: processName,
    command: process.execPath,
    args: [cliEntry, 'serve', ...args],
    runDir: kube.state.runDir,
    cwd: repoRoot,
    env: {
      ...process.env,
      KUBECONFIG: kubeconfig,
      // What the Deployment's downward API gives each replica (Lease identity, own namespace).
      POD_NAME: `hybrid-secrets-${options.name}`,
      POD_NAMESPACE: manifests.serviceAccount.namespace,
    },
  });
  t.teardown(() => webhook.stop());
  const readinessCa =
    options.selfManagedTls === undefined ? caPem : await selfManagedCa(kube, manifests.serviceAccount.namespace, options.selfManagedTls.secretName);
  await waitUntilReady(webhook, { url: `https://127.0.0.1:${port}/readyz`, tls: { ca: readinessCa } }, 60_000);
  t.comment(`webhook ${options.name} serving on 127.0.0.1:${port} as ${manifests.serviceAccount.namespace}/${manifests.serviceAccount.name}`);
  return {
    name: options.name,
    port,
    url: `https://127.0.0.1:${port}/mutate`,
    process: webhook,
    stop: () => webhook.stop(),
    kill: () => webhook.kill(),
  };
}

/** The CA certificate a --tls-auto webhook keeps in its TLS Secret, once it has written one. */
export async function selfManagedCa(kube: Cluster, namespace: string, secretName: string): Promise<string> {
  return eventually(`the webhook to write a CA into Secret ${namespace}/${secretName}`, async () => {
    const secret = await kube.core.readNamespacedSecret({ namespace, name: secretName });
    const ca = secret.data?.['ca.crt'];
    return ca === undefined ? undefined : Buffer.from(ca, 'base64').toString('utf8');
  });
}
