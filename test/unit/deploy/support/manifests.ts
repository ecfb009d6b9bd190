// Renders the kustomizations under deploy/ with kubectl and checks the rendered objects against
// the rules the install must meet. Each check returns the problems it finds (empty = fine), so
// the tests can show both that the shipped manifests pass and that a broken manifest is caught.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

// Loosely typed on purpose: the checks read rendered YAML, whose shape is what is under test.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = any;

export function findKubectl(): string | undefined {
  const candidates = [process.env.KUBECTL, '/usr/bin/kubectl', '/usr/local/bin/kubectl'];
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c));
}

export function render(kubectl: string, dir: string): Obj[] {
  const out = execFileSync(kubectl, ['kustomize', dir], { cwd: repoRoot, encoding: 'utf8' });
  return parseAllDocuments(out).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${dir}: ${doc.errors[0]?.message}`);
    return doc.toJS();
  });
}

export function one(objects: Obj[], kind: string, name?: string): Obj {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
}

const WEBHOOK_SECRET = 'hybrid-secrets-tls';
const WEBHOOK_CONFIG = 'hybrid-secrets';

/** Pod and container hardening: the restricted Pod Security Standard and a bit more. */
export function checkWorkload(objects: Obj[]): string[] {
  const problems: string[] = [];
  const deploy = one(objects, 'Deployment');
  const pod = deploy.spec.template.spec;
  const podLabels = deploy.spec.template.metadata.labels ?? {};
  if (deploy.spec.replicas < 2) problems.push(`replicas ${deploy.spec.replicas} < 2`);
  if (deploy.spec.strategy?.rollingUpdate?.maxUnavailable !== 0) problems.push('rollout may take a replica away first');
  const psc = pod.securityContext ?? {};
  if (psc.runAsNonRoot !== true) problems.push('pod runAsNonRoot is not true');
  if (!Number.isInteger(psc.runAsUser) || psc.runAsUser === 0) problems.push('pod runAsUser is not a numeric non-root uid');
  if (psc.seccompProfile?.type !== 'RuntimeDefault') problems.push('pod seccompProfile is not RuntimeDefault');
  const spread = (pod.topologySpreadConstraints ?? []).some((c: Obj) => matches(c.labelSelector?.matchLabels, podLabels));
  const anti = (pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).some((a: Obj) =>
    matches(a.podAffinityTerm?.labelSelector?.matchLabels, podLabels),
  );
  if (!spread && !anti) problems.push('no topology spread or anti-affinity over the webhook pods');
  if (pod.hostNetwork === true || pod.hostPID === true || pod.hostIPC === true) problems.push('pod shares a host namespace');
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.runAsNonRoot === false || (sc.runAsNonRoot !== true && psc.runAsNonRoot !== true)) problems.push(`${where} may run as root`);
    if (sc.runAsUser !== undefined && (!Number.isInteger(sc.runAsUser) || sc.runAsUser === 0)) problems.push(`${where} runAsUser is not numeric non-root`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${where} root filesystem is writable`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where} allows privilege escalation`);
    if (sc.privileged === true) problems.push(`${where} is privileged`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where} does not drop ALL capabilities`);
    if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${where} adds capabilities`);
    const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault') problems.push(`${where} seccompProfile is not RuntimeDefault`);
    for (const kind of ['cpu', 'memory']) {
      if (c.resources?.requests?.[kind] === undefined) problems.push(`${where} has no ${kind} request`);
    }
    if (c.resources?.limits?.memory === undefined) problems.push(`${where} has no memory limit`);
  }
  const webhook = pod.containers.find((c: Obj) => c.ports?.some((p: Obj) => p.name === 'https'));
  if (webhook === undefined) return [...problems, 'no container exposes a port named https'];
  const probe = (p: Obj, path: string, name: string): void => {
    const get = p?.httpGet;
    if (get?.path !== path || get?.scheme !== 'HTTPS' || get?.port !== 'https') problems.push(`${name} is not HTTPS GET ${path} on the https port`);
  };
  probe(webhook.livenessProbe, '/healthz', 'livenessProbe');
  probe(webhook.readinessProbe, '/readyz', 'readinessProbe');
  const env = new Map((webhook.env ?? []).map((e: Obj) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
  if (env.get('POD_NAME') !== 'metadata.name') problems.push('POD_NAME does not come from metadata.name');
  if (env.get('POD_NAMESPACE') !== 'metadata.namespace') problems.push('POD_NAMESPACE does not come from metadata.namespace');
  const port = webhook.ports.find((p: Obj) => p.name === 'https').containerPort;
  if (!(webhook.args ?? []).includes(`--port=${port}`)) problems.push(`args do not pass --port=${port}`);

  const pdb = one(objects, 'PodDisruptionBudget');
  if (!matches(pdb.spec.selector?.matchLabels, podLabels)) problems.push('PodDisruptionBudget does not select the webhook pods');
  if (pdb.spec.minAvailable === undefined && pdb.spec.maxUnavailable === undefined) problems.push('PodDisruptionBudget has no budget');
  if (typeof pdb.spec.minAvailable === 'number' && pdb.spec.minAvailable >= deploy.spec.replicas) problems.push('PodDisruptionBudget blocks every drain');

  const svc = one(objects, 'Service');
  if (!matches(svc.spec.selector, podLabels)) problems.push('Service does not select the webhook pods');
  const svcPort = svc.spec.ports.find((p: Obj) => p.port === 443);
  if (svcPort === undefined || (svcPort.targetPort !== 'https' && svcPort.targetPort !== port)) problems.push('Service 443 does not reach the https container port');
  return problems;
}

/** RBAC: no wildcards, no Secret access beyond the webhook's own TLS Secret, every role bound. */
export function checkRbac(objects: Obj[], mode: 'tls-auto' | 'cert-manager'): string[] {
  const problems: string[] = [];
  const namespace = one(objects, 'Deployment').metadata.namespace;
  const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
  let secretRules = 0;
  let webhookConfigRules = 0;
  for (const role of roles) {
    for (const [i, rule] of (role.rules ?? []).entries()) {
      const where = `${role.kind} ${role.metadata.name} rule ${i}`;
      const verbs: string[] = rule.verbs ?? [];
      const resources: string[] = rule.resources ?? [];
      const groups: string[] = rule.apiGroups ?? [];
      if (verbs.includes('*') || resources.includes('*') || groups.includes('*')) problems.push(`${where} uses a wildcard`);
      if (rule.nonResourceURLs !== undefined) problems.push(`${where} grants non-resource URLs`);
      for (const v of ['escalate', 'bind', 'impersonate']) if (verbs.includes(v)) problems.push(`${where} grants ${v}`);
      if (groups.includes('') && resources.includes('pods') && verbs.some((v) => !['get', 'list', 'watch'].includes(v))) {
        problems.push(`${where} grants writes on pods`);
      }
      if (groups.includes('') && resources.some((r) => r === 'secrets' || r.startsWith('secrets/'))) {
        secretRules++;
        const names: string[] = rule.resourceNames ?? [];
        if (names.length === 0) problems.push(`${where} grants Secrets without resourceNames`);
        if (names.some((n) => n !== WEBHOOK_SECRET)) problems.push(`${where} grants a Secret other than ${WEBHOOK_SECRET}`);
        if (role.kind !== 'Role' || role.metadata.namespace !== namespace) problems.push(`${where} grants Secrets outside ${namespace}`);
        if (verbs.some((v) => v === 'list' || v === 'watch' || v === 'create' || v === 'delete' || v === 'deletecollection')) {
          problems.push(`${where} grants ${verbs.join(',')} on Secrets`);
        }
      }
      if (resources.includes('mutatingwebhookconfigurations') || resources.includes('validatingwebhookconfigurations')) {
        webhookConfigRules++;
        const names: string[] = rule.resourceNames ?? [];
        if (names.length !== 1 || names[0] !== WEBHOOK_CONFIG) problems.push(`${where} grants webhook configurations other than ${WEBHOOK_CONFIG}`);
        if (!resources.every((r) => r === 'mutatingwebhookconfigurations')) problems.push(`${where} grants validating webhook configurations`);
      }
    }
    const bound = objects.some(
      (b) =>
        (b.kind === 'ClusterRoleBinding' || b.kind === 'RoleBinding') &&
        b.roleRef?.kind === role.kind &&
        b.roleRef?.name === role.metadata.name &&
        b.subjects?.some((s: Obj) => s.kind === 'ServiceAccount' && s.namespace === namespace),
    );
    if (!bound) problems.push(`${role.kind} ${role.metadata.name} is bound to no ServiceAccount`);
  }
  if (mode === 'tls-auto' && secretRules === 0) problems.push('self-managed TLS cannot read its own Secret');
  if (mode === 'tls-auto' && webhookConfigRules === 0) problems.push('self-managed TLS cannot publish the caBundle');
  if (mode === 'cert-manager' && secretRules > 0) problems.push('cert-manager mode grants Secret access it does not need');
  if (mode === 'cert-manager' && webhookConfigRules > 0) problems.push('cert-manager mode grants webhook configuration access it does not need');
  return problems;
}

/** The MutatingWebhookConfiguration as the design requires. */
export function checkWebhookConfiguration(objects: Obj[]): string[] {
  const problems: string[] = [];
  const mwc = one(objects, 'MutatingWebhookConfiguration');
  const svc = one(objects, 'Service');
  const namespace = one(objects, 'Deployment').metadata.namespace;
  if (mwc.metadata.name !== WEBHOOK_CONFIG) problems.push(`name is ${mwc.metadata.name}`);
  if (mwc.webhooks?.length !== 1) return [...problems, 'expected exactly one webhook'];
  const w = mwc.webhooks[0];
  if (w.name !== 'inject.hybrid-secrets.io') problems.push(`webhook name is ${w.name}`);
  if (JSON.stringify(w.admissionReviewVersions) !== '["v1"]') problems.push('admissionReviewVersions is not [v1]');
  const ref = w.clientConfig?.service;
  if (ref?.name !== svc.metadata.name || ref?.namespace !== svc.metadata.namespace) problems.push('clientConfig does not point at the Service');
  if (ref?.path !== '/mutate') problems.push('clientConfig path is not /mutate');
  if ((ref?.port ?? 443) !== 443) problems.push('clientConfig port is not 443');
  if (w.clientConfig?.caBundle !== undefined) problems.push('caBundle is set in the manifest (apply would reset it on upgrade)');
  const rules = w.rules ?? [];
  const podCreate = rules.length === 1 && JSON.stringify(rules[0].operations) === '["CREATE"]' &&
    JSON.stringify(rules[0].resources) === '["pods"]' && JSON.stringify(rules[0].apiGroups) === '[""]';
  if (!podCreate) problems.push('rules are not exactly CREATE on core pods');
  const exprs = w.namespaceSelector?.matchExpressions ?? [];
  const optIn = exprs.some((e: Obj) => e.key === 'hybrid-secrets.io/injection' && e.operator === 'In' && JSON.stringify(e.values) === '["enabled"]') ||
    w.namespaceSelector?.matchLabels?.['hybrid-secrets.io/injection'] === 'enabled';
  if (!optIn) problems.push('namespaceSelector does not require hybrid-secrets.io/injection=enabled');
  const ownExcluded = exprs.some((e: Obj) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn' && e.values?.includes(namespace));
  if (!ownExcluded) problems.push(`namespaceSelector does not exclude the webhook's namespace ${namespace}`);
  const conditions: Obj[] = w.matchConditions ?? [];
  const annotation = conditions.find((c) => String(c.expression).includes(`'hybrid-secrets.io/inject'`));
  if (annotation === undefined) problems.push('no matchCondition on the inject annotation');
  else if (!celGuardsAnnotation(String(annotation.expression))) problems.push('matchCondition indexes annotations without has()/in guards');
  if (w.sideEffects !== 'NoneOnDryRun') problems.push(`sideEffects is ${w.sideEffects}`);
  if (w.reinvocationPolicy !== 'IfNeeded') problems.push(`reinvocationPolicy is ${w.reinvocationPolicy}`);
  if (!Number.isInteger(w.timeoutSeconds) || w.timeoutSeconds < 1 || w.timeoutSeconds > 30) problems.push('timeoutSeconds is not an explicit 1..30');
  if (w.failurePolicy !== 'Fail' && w.failurePolicy !== 'Ignore') problems.push('failurePolicy is not explicit');
  const deadline = one(objects, 'Deployment').spec.template.spec.containers[0].args?.find((a: string) => a.startsWith('--api-deadline-ms='));
  if (deadline !== undefined && Number(deadline.split('=')[1]) >= w.timeoutSeconds * 1000) problems.push('--api-deadline-ms is not below timeoutSeconds');
  return problems;
}

/**
 * The expression must evaluate to false (not error) for pods without annotations or without the
 * key: `has(object.metadata.annotations)` and `'<key>' in object.metadata.annotations` must both
 * come before the index, joined by `&&`.
 */
export function celGuardsAnnotation(expression: string): boolean {
  const e = expression.replace(/\s+/g, ' ');
  const index = e.indexOf(`object.metadata.annotations['hybrid-secrets.io/inject'] == 'true'`);
  const has = e.indexOf('has(object.metadata.annotations)');
  const inMap = e.indexOf(`'hybrid-secrets.io/inject' in object.metadata.annotations`);
  return index > 0 && has >= 0 && inMap > has && index > inMap && !e.includes('||');
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
