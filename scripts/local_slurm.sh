#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for tests: munged, slurmctld and slurmd from
# Debian's packages (apt-get install slurmctld slurmd munge), listening on loopback only, with all
# state (config, munge key and socket, spool, logs, pid files) in one folder.
#   scripts/local_slurm.sh start DIR [CPUS]   configure and start; prints SLURM_CONF=DIR/slurm.conf
#   scripts/local_slurm.sh stop DIR           stop the daemons started from DIR (by their pid files)
#   scripts/local_slurm.sh status DIR         sinfo of the cluster in DIR
# Clients (sbatch, squeue, scontrol, submitit) find the cluster through SLURM_CONF=DIR/slurm.conf.
# Made for a container: no cgroups (proctrack/linuxproc, task/none), no accounting database
# (sacct is unavailable: job states come from squeue), daemons run as the calling user.
set -euo pipefail

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
command="${1:-}"; dir="${2:-}"
[ -n "$command" ] && [ -n "$dir" ] || { usage; exit 2; }

free_port() {  # a TCP port nobody listens on at 127.0.0.1
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_pid_file() {  # stop_pid_file FILE: SIGTERM the daemon whose pid is in FILE, then SIGKILL
  local file="$1" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND until it succeeds
  local seconds="$1" what="$2"; shift 2
  for _ in $(seq $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "local_slurm.sh: $what did not come up within $seconds s; logs in $dir" >&2
  return 1
}

case "$command" in
  start)
    for tool in munged slurmctld slurmd sbatch squeue scontrol srun; do
      command -v "$tool" >/dev/null || {
        echo "local_slurm.sh: '$tool' not found; install Slurm: apt-get install slurmctld slurmd munge" >&2
        exit 3; }
    done
    mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
    cpus="${3:-$(nproc)}"
    memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
    chmod 700 "$dir/munge"
    # munge: a fresh key, a private socket; --force accepts a socket folder under a sticky /tmp
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge/munge.key"
    munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
      --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
      --seed-file="$dir/munge/munged.seed"
    wait_for 10 munged test -S "$dir/munge/munge.socket"
    cat > "$dir/slurm.conf" <<EOF
ClusterName=ddlibtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SrunPortRange=$(( 40000 + RANDOM % 10000 ))-$(( 50000 + RANDOM % 5000 ))
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
ReturnToService=2
MinJobAge=30
KillWait=1
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=20
JobRequeue=1
NodeName=ddlibnode NodeAddr=127.0.0.1 NodeHostname=$(hostname) CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=ddlibnode Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF="$dir/slurm.conf"
    slurmctld -i -f "$SLURM_CONF"   # -i: ignore saved state (a fresh cluster every start)
    wait_for 20 slurmctld scontrol ping
    slurmd -f "$SLURM_CONF" -N ddlibnode
    idle() { sinfo -h -N -n ddlibnode -o %t | grep -qE '^(idle|mix|alloc)'; }
    wait_for 30 "slurmd (node ddlibnode idle)" idle
    echo "SLURM_CONF=$SLURM_CONF"
    ;;
  stop)
    [ -d "$dir" ] || exit 0
    dir="$(cd "$dir" && pwd)"
    if [ -f "$dir/slurm.conf" ] && [ -f "$dir/slurmctld.pid" ]; then
      SLURM_CONF="$dir/slurm.conf" timeout 10 scancel --full --quiet --user "$(id -un)" 2>/dev/null || true
    fi
    stop_pid_file "$dir/slurmd.pid"
    stop_pid_file "$dir/slurmctld.pid"
    stop_pid_file "$dir/munge/munged.pid"
    ;;
  status)
    SLURM_CONF="$dir/slurm.conf" sinfo
    ;;
  *) usage; exit 2 ;;
esac
