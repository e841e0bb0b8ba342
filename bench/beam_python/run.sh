#!/usr/bin/env bash
# Runs W1 and W2 on Apache Beam's Python FnApiRunner, in a virtualenv with apache-beam from PyPI.
#
#   bench/beam_python/run.sh             # the full sizes (10 M elements per run: hours)
#   bench/beam_python/run.sh --scale 50  # 200,000 elements per run
#
# BEAM_VENV (default: bench/beam_python/.venv) is where the virtualenv goes; BEAM_VERSION pins apache-beam.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${BEAM_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
fi
if ! "$venv/bin/python" -c "import apache_beam" 2>/dev/null; then
    "$venv/bin/pip" install --quiet "apache-beam${BEAM_VERSION:+==$BEAM_VERSION}"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
exec "$venv/bin/python" -W ignore "$here/beam_bench.py" "$@" 2> >(grep -v -e 'apitools not found' -e '^$' >&2)
