// A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC, client-certificate
// auth, an audit log) and kube-controller-manager (so Deployments make ReplicaSets and Pods and
// the garbage collector runs). No scheduler and no kubelet: pods stay Pending, which is enough
// for admission. Flags follow envtest / local-up-cluster.
import { request } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createCertificateAuthority, rsaKeyPem, type CertificateAuthority, type KeyPair } from './pki.ts';
import { freePorts } from './ports.ts';
import { logTail, startProcess, type ManagedProcess } from './processes.ts';

/** What test files need to reach the cluster; written to `<runDir>/cluster.json`. */
export interface ClusterState {
  readonly runDir: string;
  readonly binDir: string;
  readonly apiServerUrl: string;
  readonly kubernetesVersion: string;
  /** CA that signed every certificate of the run (API server, clients, webhook). */
  readonly caCertFile: string;
  readonly caKeyFile: string;
  /** Kubeconfig of a `system:masters` client certificate. */
  readonly adminKubeconfig: string;
  /** JSON lines, one audit event per line (pods and the generated objects' groups). */
  readonly auditLog: string;
  readonly crdSource: string;
}

export interface ControlPlane {
  readonly state: ClusterState;
  readonly ca: CertificateAuthority;
  readonly processes: readonly ManagedProcess[];
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  readonly binDir: string;
  readonly runDir: string;
  readonly kubernetesVersion: string;
  readonly log: (line: string) => void;
  readonly readyTimeoutMs?: number;
}

const serviceClusterIpRange = '10.0.0.0/24';
// The first address of the service range: the `kubernetes` Service's ClusterIP.
const kubernetesServiceIp = '10.0.0.1';

// Pods and everything we generate, at Metadata level: which user did what, and which mutating
// webhooks the API server called for each pod (the mutation.webhook.admission.k8s.io/*
// annotations). Nothing else, to keep the log small.
const auditPolicy = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  rules: [
    {
      level: 'Metadata',
      resources: [
        { group: '', resources: ['pods'] },
        { group: 'external-secrets.io' },
        { group: 'secrets-store.csi.x-k8s.io' },
      ],
    },
    { level: 'None' },
  ],
};

export function kubeconfigYaml(options: {
  readonly server: string;
  readonly caPem: string;
  readonly user: { readonly token: string } | KeyPair;
}): string {
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  const user =
    'token' in options.user
      ? { token: options.user.token }
      : { 'client-certificate-data': b64(options.user.certPem), 'client-key-data': b64(options.user.keyPem) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: options.server, 'certificate-authority-data': b64(options.caPem) } }],
    users: [{ name: 'e2e', user }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'e2e' } }],
    'current-context': 'e2e',
  });
}

interface Probe {
  readonly url: string;
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly insecure?: boolean };
}

/** One GET; resolves with the status code, or 0 when the connection failed. */
function probeOnce(probe: Probe): Promise<number> {
  return new Promise((resolve) => {
    const url = new URL(probe.url);
    const onResponse = (response: IncomingMessage): void => {
      response.resume();
      resolve(response.statusCode ?? 0);
    };
    const req =
      url.protocol === 'https:'
        ? request(
            url,
            {
              ca: probe.tls?.ca,
              cert: probe.tls?.cert,
              key: probe.tls?.key,
              rejectUnauthorized: probe.tls?.insecure !== true,
              timeout: 2_000,
            },
            onResponse,
          )
        : httpRequest(url, { timeout: 2_000 }, onResponse);
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Polls until `probe` answers 200; fails early, with its log, when `process` exits. */
export async function waitUntilReady(process: ManagedProcess, probe: Probe, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!process.isRunning()) {
      throw new Error(`${process.name} exited before it was ready:\n${logTail(process.logFile)}`);
    }
    if ((await probeOnce(probe)) === 200) return;
    if (Date.now() > deadline) {
      throw new Error(`${process.name} not ready after ${timeoutMs} ms (${probe.url}):\n${logTail(process.logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { binDir, runDir, log } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const pkiDir = join(runDir, 'pki');
  mkdirSync(pkiDir, { recursive: true });
  const write = (name: string, content: string): string => {
    const file = join(pkiDir, name);
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  };

  const ca = createCertificateAuthority();
  const caCertFile = write('ca.crt', ca.certPem);
  const caKeyFile = write('ca.key', ca.keyPem);
  const serving = ca.issue({
    commonName: 'kube-apiserver',
    usage: 'server',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ipAddresses: ['127.0.0.1', kubernetesServiceIp],
  });
  const admin = ca.issue({ commonName: 'e2e-admin', organizations: ['system:masters'], usage: 'client' });
  const controllerManager = ca.issue({ commonName: 'system:kube-controller-manager', usage: 'client' });
  const serviceAccountKeyFile = write('service-account.key', rsaKeyPem());

  const [etcdClientPort, etcdPeerPort, apiServerPort, controllerManagerPort] = (await freePorts(4)) as [
    number,
    number,
    number,
    number,
  ];
  const apiServerUrl = `https://127.0.0.1:${apiServerPort}`;
  const adminKubeconfig = join(runDir, 'admin.kubeconfig');
  writeFileSync(adminKubeconfig, kubeconfigYaml({ server: apiServerUrl, caPem: ca.certPem, user: admin }), { mode: 0o600 });
  const controllerManagerKubeconfig = join(runDir, 'controller-manager.kubeconfig');
  writeFileSync(
    controllerManagerKubeconfig,
    kubeconfigYaml({ server: apiServerUrl, caPem: ca.certPem, user: controllerManager }),
    { mode: 0o600 },
  );
  const auditPolicyFile = join(runDir, 'audit-policy.yaml');
  writeFileSync(auditPolicyFile, stringify(auditPolicy));
  const auditLog = join(runDir, 'audit.log');

  const processes: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const child of [...processes].reverse()) await child.stop();
  };

  try {
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    log(`starting etcd on ${etcdUrl}`);
    const etcd = startProcess({
      name: 'etcd',
      command: join(binDir, 'etcd'),
      runDir,
      args: [
        `--data-dir=${join(runDir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        // A test cluster's data is thrown away: skipping fsync makes every write far cheaper.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
    });
    processes.push(etcd);
    await waitUntilReady(etcd, { url: `${etcdUrl}/health` }, readyTimeoutMs);

    log(`starting kube-apiserver on ${apiServerUrl}`);
    const apiServer = startProcess({
      name: 'kube-apiserver',
      command: join(binDir, 'kube-apiserver'),
      runDir,
      args: [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiServerPort}`,
        '--endpoint-reconciler-type=none',
        `--tls-cert-file=${write('apiserver.crt', serving.certPem)}`,
        `--tls-private-key-file=${write('apiserver.key', serving.keyPem)}`,
        `--client-ca-file=${caCertFile}`,
        '--authorization-mode=RBAC',
        `--service-cluster-ip-range=${serviceClusterIpRange}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${serviceAccountKeyFile}`,
        `--service-account-signing-key-file=${serviceAccountKeyFile}`,
        '--allow-privileged=true',
        `--audit-policy-file=${auditPolicyFile}`,
        `--audit-log-path=${auditLog}`,
        '--audit-log-format=json',
        // Write each event as the request completes, so tests can read it right after.
        '--audit-log-mode=blocking',
        '--profiling=false',
      ],
    });
    processes.push(apiServer);
    await waitUntilReady(
      apiServer,
      { url: `${apiServerUrl}/readyz`, tls: { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem } },
      readyTimeoutMs,
    );

    log('starting kube-controller-manager');
    const controllerManagerProcess = startProcess({
      name: 'kube-controller-manager',
      command: join(binDir, 'kube-controller-manager'),
      runDir,
      args: [
        `--kubeconfig=${controllerManagerKubeconfig}`,
        `--authentication-kubeconfig=${controllerManagerKubeconfig}`,
        `--authorization-kubeconfig=${controllerManagerKubeconfig}`,
        '--leader-elect=false',
        '--controllers=*',
        // Each controller acts as its own service account, with the RBAC roles upstream ships.
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${serviceAccountKeyFile}`,
        `--root-ca-file=${caCertFile}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${controllerManagerPort}`,
        `--cert-dir=${join(runDir, 'controller-manager-certs')}`,
        '--profiling=false',
      ],
    });
    processes.push(controllerManagerProcess);
    await waitUntilReady(
      controllerManagerProcess,
      { url: `https://127.0.0.1:${controllerManagerPort}/healthz`, tls: { insecure: true } },
      readyTimeoutMs,
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const state: ClusterState = {
    runDir,
    binDir,
    apiServerUrl,
    kubernetesVersion: options.kubernetesVersion,
    caCertFile,
    caKeyFile,
    adminKubeconfig,
    auditLog,
    crdSource: '',
  };
  return { state, ca, processes, stop };
}
