#!/usr/bin/env bash
# Runs the README's Slurm recipe on a real single-node Slurm cluster and checks its result.
#
#   scripts/slurm_check.sh [CORPUS] [TASKS] [WORKERS]
#
# Brings up munged, slurmctld and slurmd from Debian's `slurm-wlm` (apt-get install slurm-wlm)
# on this machine with a generated slurm.conf (everything under one temporary directory, taken
# down on exit), submits the README's job array as written there (read from README.md; only the
# binary, the paths, the array size, the CPUs and the task count replaced: WORKERS array tasks,
# TASKS tasks), submits the README's `bertprep finalize` line after it with
# `--dependency=afterok`, waits, and checks that the shards equal those of the same build run in
# one process. Prints the jobs' logs and exits non-zero on any difference.
#
# Defaults: the fixtures corpus, 8 tasks, 4 workers. Needs root (the daemons run as root).
# Uses the bertprep binary named by BERTPREP_BIN, else a release build (built here).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-fixtures}
tasks=${2:-8}
workers=${3:-4}
corpus=$(realpath "$corpus")

command -v slurmctld >/dev/null || { echo "slurm_check: install slurm-wlm first" >&2; exit 2; }
if [ -n "${BERTPREP_BIN:-}" ]; then
  bin=$(realpath "$BERTPREP_BIN")
else
  cargo build --release --quiet --bin bertprep
  bin=$(realpath target/release/bertprep)
fi

run=$(mktemp -d /tmp/bertprep-slurm.XXXXXX)
cleanup() {
  for pidfile in "$run"/slurmd.pid "$run"/slurmctld.pid "$run"/munged.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 1
  rm -rf "$run"
}
trap cleanup EXIT
mkdir -p "$run"/{state,spool,munge,out,one}
host=$(hostname -s)
cpus=$(nproc)

# munge: a key of our own and a private socket, so nothing of the machine's is touched.
dd if=/dev/urandom bs=1 count=1024 of="$run/munge/munge.key" status=none
chmod 700 "$run/munge"
chmod 400 "$run/munge/munge.key"
munged --force --key-file="$run/munge/munge.key" --socket="$run/munge/munge.sock" \
  --pid-file="$run/munged.pid" --log-file="$run/munge/munged.log" \
  --seed-file="$run/munge/munged.seed"

cat > "$run/slurm.conf" <<EOF
ClusterName=bertprep
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$run/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$run/state
SlurmdSpoolDir=$run/spool
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmctldLogFile=$run/slurmctld.log
SlurmdLogFile=$run/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
DependencyParameters=kill_invalid_depend
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$run/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
  sleep 1
done
sinfo

# The README's job array and its finalize line, taken from README.md as written there, with
# this run's binary, paths and sizes put in (a README without them fails the check).
recipe=$(awk '/scripts\/slurm_check.sh. runs this recipe/ {on = 1; next}
  on && /^```sh$/ {inside = 1; next} inside && /^```$/ {exit} inside {print}' README.md)
finalize_line=$(grep -o 'sbatch --dependency=afterok:\$JOBID --wrap "bertprep finalize /data/shards"' \
  README.md | head -1)
[ -n "$recipe" ] && [ -n "$finalize_line" ] \
  || { echo "slurm_check: FAILED: README.md has no Slurm recipe to run" >&2; exit 1; }
ours() {
  sed -e "s|^bertprep |$bin |; s| bertprep | $bin |; s|\"bertprep |\"$bin |" \
    -e "s|/data/wiki|$corpus|g; s|/data/shards|$run/out|g" \
    -e "s|--array=0-[0-9]*|--array=0-$((workers - 1))|; s|--cpus-per-task=[0-9]*|--cpus-per-task=1|" \
    -e "s|--tasks [0-9]*|--tasks $tasks|"
}
printf '%s\n' "$recipe" | ours | sed "2i #SBATCH --output=$run/array-%a.log" > "$run/array.sh"
echo "slurm_check: the README's array job, as run:"
cat "$run/array.sh"
array=$(sbatch --parsable "$run/array.sh")
finalize_cmd=$(printf '%s\n' "$finalize_line" | ours | sed "s|\\\$JOBID|$array|")
finalize_cmd=${finalize_cmd/sbatch /sbatch --parsable --output=$run/finalize.log }
echo "slurm_check: $finalize_cmd"
final=$(eval "$finalize_cmd")
echo "slurm_check: array job $array ($workers workers, $tasks tasks), finalize job $final"
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$array,$final" 2>/dev/null)" ] && break
  sleep 1
done
for log in "$run"/array-*.log "$run/finalize.log"; do
  echo "--- $(basename "$log")"
  cat "$log"
done

# The same build in one process.
"$bin" build --quiet --in "$corpus" --out "$run/one" --max-seq-len 128 --tasks "$tasks"
"$bin" finalize "$run/one" 2>/dev/null
[ -f "$run/out/manifest.json" ] || { echo "slurm_check: FAILED: no manifest.json" >&2; exit 1; }
a=$(cd "$run/out" && cat shard-*.parquet | sha256sum | cut -c1-16)
b=$(cd "$run/one" && cat shard-*.parquet | sha256sum | cut -c1-16)
echo "slurm_check: shards of the Slurm run $a, of one process $b"
[ "$a" = "$b" ] || { echo "slurm_check: FAILED: the shards differ" >&2; exit 1; }
echo "slurm_check: OK"
