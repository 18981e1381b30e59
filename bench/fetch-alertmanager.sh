#!/bin/sh
# `npm run bench:fetch-alertmanager`: downloads Debian's prometheus-alertmanager package and unpacks it into
# bench/.cache/alertmanager (git-ignored) WITHOUT installing it: nothing outside this directory changes, and
# no root is needed. `npm run bench` uses `alertmanager` from PATH when there is one, else this copy.
# Debian's build reads its default template from /usr/share/prometheus/alertmanager/default.tmpl, which
# only an installed package provides: where it is missing, the bench prints why Alertmanager was not measured.
set -eu
cd "$(dirname "$0")"
mkdir -p .cache
cd .cache
rm -f prometheus-alertmanager_*.deb
apt-get download prometheus-alertmanager
rm -rf alertmanager
dpkg -x prometheus-alertmanager_*.deb alertmanager
ls -l alertmanager/usr/bin/prometheus-alertmanager
alertmanager/usr/bin/prometheus-alertmanager --version 2>&1 | head -1
