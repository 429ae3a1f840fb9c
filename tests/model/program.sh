#!/bin/bash
# The random case's program (tests/vm/cases/random.sh, tests/model/gen.py)
# into DIR/program.txt, for the VM suite (tests/run-vm.sh), the lab suite
# (tests/lab/run.sh) and tests/model/run-lab.sh alike. Prints the seed.
# CI replays one fixed program (seed 4: 0 mismatches on stock 6.1, strict
# and lazy, when it was chosen), so that a red run is a regression, not a
# new seed's discovery; elsewhere each run draws a new seed to explore.
# IA_SEED=S reproduces one, IA_RANDOM_OPS=N sets its length (10000).
#
# usage: tests/model/program.sh DIR GRANULE
set -euo pipefail
dir=${1:?usage: program.sh DIR GRANULE} granule=${2:?usage: program.sh DIR GRANULE}
if [ -n "${CI:-}" ]; then
	seed=${IA_SEED:-4}
else
	seed=${IA_SEED:-$(( (RANDOM << 15) | RANDOM ))}
fi
mkdir -p "$dir"
python3 "$(dirname "$0")/gen.py" --seed "$seed" --ops "${IA_RANDOM_OPS:-10000}" \
	--granule "$granule" > "$dir/program.txt"
echo "# random program: seed $seed, ${IA_RANDOM_OPS:-10000} operations, sizes by granule $granule"
