#!/usr/bin/env bash
# The appliance's main job on its embedded defaults. Today that is the routing
# decision, offline: every shipped sample request in conf/samples/requests.jsonl is
# classified with the default policy image (conf/rules + conf/scorer, compiled at
# build time) and printed as one JSON line with its route and explanation.
# Installs what it needs first. Run as root on Debian 12.
# Extra arguments go to twospeed-classify (e.g. a JSONL file of your own, or -).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash tools/scripts/setup.sh
bash tools/scripts/build.sh build
if [ "$#" -eq 0 ]; then
	set -- conf/samples/requests.jsonl
fi
exec build/tools/classify/twospeed-classify --policy build/conf/default.tspol "$@"
