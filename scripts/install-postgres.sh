#!/usr/bin/env bash
# Installs what the store's PostgreSQL and replica tests need: Debian's PostgreSQL server (the
# tests start a throwaway one themselves; the package's own cluster is not used) and nginx (the
# reverse proxy of deploy/, run on loopback in front of two app replicas).
set -euo pipefail
need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The package starts its own cluster; the tests never use it.
$SUDO systemctl disable --now postgresql >/dev/null 2>&1 || $SUDO service postgresql stop >/dev/null 2>&1 || true
