#!/usr/bin/env bash
# Checks the alert rules: promtool lint of alerts.yaml's rule groups, then the
# unit tests of alerts_test.yaml. Needs promtool (Debian package prometheus)
# and python3 with PyYAML (to take the groups out of the PrometheusRule).
#
#   bash deploy/prometheus/check.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rules.yml: the groups as Prometheus loads them. rules-test.yml: the same
# without annotations, because promtool compares annotations verbatim and the
# tests are about when alerts fire and with which labels (promtool check
# rules still parses every annotation template).
python3 - "$here/alerts.yaml" "$tmp" <<'PY'
import sys, yaml
src, out = sys.argv[1], sys.argv[2]
with open(src) as f:
    doc = yaml.safe_load(f)
assert doc["kind"] == "PrometheusRule", doc["kind"]
groups = doc["spec"]["groups"]
with open(out + "/rules.yml", "w") as f:
    yaml.safe_dump({"groups": groups}, f, sort_keys=False)
for g in groups:
    for r in g["rules"]:
        r.pop("annotations", None)
with open(out + "/rules-test.yml", "w") as f:
    yaml.safe_dump({"groups": groups}, f, sort_keys=False)
PY

cp "$here/alerts_test.yaml" "$tmp/"
promtool check rules "$tmp/rules.yml"
promtool test rules "$tmp/alerts_test.yaml"
