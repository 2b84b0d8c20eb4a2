#!/usr/bin/env bash
# Installs bubblewrap, the Practice judge's jail (prep/judge/jail.py). Without it the judge falls
# back to Landlock or to no isolation (and says so in the page), so a machine without apt-get
# only gets a warning here.
set -euo pipefail
command -v bwrap >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: bubblewrap (bwrap) is not installed and apt-get is not available;" \
         "Practice will run learners' code under Landlock or without isolation." >&2
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
