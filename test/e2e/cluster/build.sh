#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from the Go modules pinned in go.mod
# and caches them outside the checkout, keyed by version, so later runs (and CI on the same
# machine) skip the build. Prints the directory holding the binaries on its last stdout line.
#
#   test/e2e/cluster/build.sh            build what is missing, print the bin dir
#   HYBRID_SECRETS_KUBE_BIN=/dir ...      use prebuilt binaries from /dir instead
set -euo pipefail
cd "$(dirname "$0")"
# The official Go install location, for shells whose PATH lacks it.
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"

if [[ -n "${HYBRID_SECRETS_KUBE_BIN:-}" ]]; then
  echo "$HYBRID_SECRETS_KUBE_BIN"
  exit 0
fi

# One place for the pinned versions: go.mod.
kube_version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/hybrid-secrets"
bin_dir="$cache_root/kube-$kube_version-etcd-$etcd_version"
mkdir -p "$bin_dir"

minor=${kube_version#v1.}
minor=${minor%%.*}
# Stamped like a release build, so `kube-apiserver --version` and /version tell the truth.
kube_ldflags="-s -w \
  -X k8s.io/component-base/version.gitVersion=$kube_version \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=$minor \
  -X k8s.io/component-base/version.gitTreeState=clean \
  -X k8s.io/client-go/pkg/version.gitVersion=$kube_version \
  -X k8s.io/client-go/pkg/version.gitMajor=1 \
  -X k8s.io/client-go/pkg/version.gitMinor=$minor"

build() { # name package ldflags
  local name=$1 pkg=$2 ldflags=$3
  if [[ -x "$bin_dir/$name" ]]; then
    echo "e2e: $name cached in $bin_dir" >&2
    return
  fi
  local start=$SECONDS
  echo "e2e: building $name ($pkg) — the first build takes several minutes on 2 cores..." >&2
  # A heartbeat so a long, silent `go build` does not look hung in CI logs.
  ( while sleep 60; do echo "e2e:   still building $name ($((SECONDS - start)) s)" >&2; done ) &
  local heartbeat=$!
  # Build into a temporary name and rename: an interrupted build never leaves a broken binary
  # that a later run would take for a cached one.
  if ! CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin_dir/.$name.tmp.$$" "$pkg"; then
    kill "$heartbeat" 2>/dev/null || true
    rm -f "$bin_dir/.$name.tmp.$$"
    echo "e2e: building $name failed" >&2
    exit 1
  fi
  kill "$heartbeat" 2>/dev/null || true
  mv "$bin_dir/.$name.tmp.$$" "$bin_dir/$name"
  echo "e2e: built $name in $((SECONDS - start)) s" >&2
}

build etcd go.etcd.io/etcd/server/v3 "-s -w"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$kube_ldflags"

echo "$bin_dir"
