// The value rules of the annotation contract (DESIGN.md §3). Each check returns undefined when
// the value is acceptable, else a message that says what is allowed. Pure.

const SECRET_NAME = /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;
const SECRET_NAME_MAX = 40;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL_MAX = 63;
const DNS_SUBDOMAIN_MAX = 253;
const C_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Go's time.ParseDuration grammar without a sign: "0", or one or more <number><unit>.
const GO_DURATION = /^(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const NANOSECONDS: Readonly<Record<string, number>> = {
  ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};
const MAX_DURATION_NS = 2 ** 63 - 1;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Directories a secret mount must never shadow. */
const SYSTEM_DIRECTORIES = new Set([
  '/bin', '/boot', '/dev', '/etc', '/lib', '/lib64', '/proc', '/root', '/run', '/sbin', '/sys',
  '/usr', '/var',
]);
/** Kernel and device trees: nothing below them may be mounted over either. */
const SYSTEM_TREES = ['/proc/', '/sys/', '/dev/'];

export function checkNoControlCharacters(value: string): string | undefined {
  return CONTROL_CHARACTER.test(value) ? 'must not contain control characters (newlines, tabs, …)' : undefined;
}

export function checkSecretName(name: string): string | undefined {
  const allowed = `secret names are 1-${SECRET_NAME_MAX} characters of lower-case letters, digits, '-', '_' and '.', starting and ending with a letter or digit`;
  if (name === '') return `the secret name after the prefix is empty; ${allowed}`;
  if (name === '.' || name === '..') return `'${name}' is not a usable file name; ${allowed}`;
  if (name.length > SECRET_NAME_MAX) return `secret name '${name}' is ${name.length} characters long; ${allowed}`;
  if (!SECRET_NAME.test(name)) return `secret name '${name}' is invalid; ${allowed}`;
  return undefined;
}

/** A DNS-1123 label, the name rule of namespaces and Services (no dots, at most 63 characters). */
export function isDnsLabel(value: string): boolean {
  return value.length <= DNS_LABEL_MAX && DNS_LABEL.test(value);
}

/** A DNS-1123 subdomain, the name rule of SecretStore and ClusterSecretStore. */
export function isDnsSubdomain(value: string): boolean {
  return value.length > 0 && value.length <= DNS_SUBDOMAIN_MAX && value.split('.').every((part) => DNS_LABEL.test(part));
}

export function checkStoreName(value: string): string | undefined {
  return isDnsSubdomain(value)
    ? undefined
    : `'${value}' is not a valid store name; use a DNS subdomain: lower-case letters, digits, '-' and '.', at most ${DNS_SUBDOMAIN_MAX} characters, starting and ending with a letter or digit`;
}

export function checkEnvName(value: string): string | undefined {
  return C_IDENTIFIER.test(value)
    ? undefined
    : `'${value}' is not a valid environment variable name; use a C identifier: letters, digits and '_', not starting with a digit`;
}

/** Go's time.ParseDuration (without a sign) in nanoseconds; undefined when `text` is not one. */
export function parseGoDurationNs(text: string): number | undefined {
  if (!GO_DURATION.test(text)) return undefined;
  let totalNs = 0;
  for (const [, amount, unit] of text.matchAll(GO_DURATION_PART)) {
    totalNs += Number(amount) * (NANOSECONDS[unit ?? ''] ?? 0);
  }
  return totalNs;
}

/** A Go duration as ExternalSecret `refreshInterval` takes it; `0` means fetch once, never refresh. */
export function checkRefreshInterval(value: string): string | undefined {
  const allowed = `use a Go duration such as 1h, 30m, 1h30m or 90s (units ns, us, ms, s, m, h); 0 syncs once and never refreshes`;
  const totalNs = parseGoDurationNs(value);
  if (totalNs === undefined) return `'${value}' is not a duration; ${allowed}`;
  if (totalNs > MAX_DURATION_NS) return `'${value}' is longer than a Go duration can hold (about 292 years); ${allowed}`;
  return undefined;
}

export function checkMountPath(path: string): string | undefined {
  const allowed = 'use an absolute, normalised directory such as /mnt/secrets (no //, no trailing /, no . or .. segments), outside system directories';
  if (!path.startsWith('/')) return `'${path}' is not absolute; ${allowed}`;
  if (path === '/') return `the root directory cannot be a mount path; ${allowed}`;
  if (path.includes('//')) return `'${path}' contains '//'; ${allowed}`;
  if (path.endsWith('/')) return `'${path}' ends with '/'; ${allowed}`;
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
    return `'${path}' contains a '.' or '..' segment; ${allowed}`;
  }
  if (SYSTEM_DIRECTORIES.has(path) || SYSTEM_TREES.some((tree) => path.startsWith(tree))) {
    return `'${path}' would hide a system directory; ${allowed}`;
  }
  return undefined;
}

/**
 * Splits a comma list of container names. Surrounding blanks around each name are ignored;
 * returns the names, or a message when a name is empty or repeated.
 */
export function parseNameList(value: string): { names: string[] } | { message: string } {
  const names = value.split(',').map((name) => name.trim());
  const allowed = 'use a comma-separated list of container names, each named once';
  if (names.some((name) => name === '')) return { message: `'${value}' has an empty name; ${allowed}` };
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) return { message: `'${repeated}' is listed twice; ${allowed}` };
  return { names };
}
