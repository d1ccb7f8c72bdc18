#!/bin/sh
# The container's entry: `courtyard run` never creates a database, so `run` (the default
# command) first runs `courtyard migrate`, which creates /data/courtyard.sqlite3 on the first
# start and applies pending migrations after an upgrade. Every other command goes straight on.
set -e
if [ "${1:-run}" = "run" ]; then
    courtyard migrate
fi
exec courtyard "$@"
