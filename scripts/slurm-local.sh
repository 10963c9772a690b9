#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for afm's Slurm executor and its tests (Debian's slurm-wlm 22.05).
#   scripts/slurm-local.sh start    munged (unless one already answers), slurmctld and slurmd; prints SLURM_CONF
#   scripts/slurm-local.sh stop     stops what start started (and only that), removes the state directory
#   scripts/slurm-local.sh status   sinfo of the local cluster, or exit 1 when it is down
# Everything stays on loopback (SlurmctldHost=NAME(127.0.0.1), NodeAddr=127.0.0.1, no INADDR_ANY binding).
# State, spool, logs and the configuration live in $AFM_SLURM_DIR (default /tmp/afm-slurm-local); clients find
# the cluster through SLURM_CONF=$AFM_SLURM_DIR/slurm.conf. The daemons stop by themselves after $AFM_SLURM_TTL
# seconds (default 7200) in case nobody calls stop. Needs root (munged and slurmd run as root here).
# Exit codes: 0 ok, 1 status: not running, 2 cannot start (not root, Slurm or munge not installed, daemon failed).
set -euo pipefail

dir=${AFM_SLURM_DIR:-/tmp/afm-slurm-local}
ttl=${AFM_SLURM_TTL:-7200}
conf="$dir/slurm.conf"
say() { printf '[slurm-local] %s\n' "$*" >&2; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() {
  local f=$1 p
  [ -f "$f" ] || return 0
  p=$(cat "$f")
  if kill -0 "$p" 2>/dev/null; then
    kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null || true
  fi
  rm -f "$f"
}

munge_answers() { command -v munge >/dev/null && munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

do_stop() {
  [ -d "$dir" ] || { say "not running (no $dir)"; return 0; }
  # Jobs first: their steps (slurmstepd and the tasks) would outlive slurmd.
  if [ -f "$conf" ] && pid_alive "$dir/slurmctld.pid"; then
    SLURM_CONF=$conf timeout 10 scancel --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(SLURM_CONF=$conf timeout 5 squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  stop_pidfile "$dir/watchdog.pid"
  stop_pidfile "$dir/watchdog-sleep.pid"
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munged.pid"   # only present when this script started munged
  rm -rf "$dir"
  say "stopped"
}

do_status() {
  if [ -f "$conf" ] && pid_alive "$dir/slurmctld.pid" && pid_alive "$dir/slurmd.pid"; then
    SLURM_CONF=$conf sinfo
    echo "SLURM_CONF=$conf"
    return 0
  fi
  say "not running"
  return 1
}

do_start() {
  if [ "$(id -u)" != 0 ]; then say "ERROR: needs root (munged and slurmd run as root on this single-node cluster)."; exit 2; fi
  for b in munged slurmctld slurmd sbatch squeue sinfo; do
    command -v "$b" >/dev/null || { say "ERROR: '$b' not found: install slurm-wlm and munge (scripts/setup.sh does, as root)."; exit 2; }
  done
  if [ -f "$conf" ] && pid_alive "$dir/slurmctld.pid" && pid_alive "$dir/slurmd.pid"; then
    say "already running"; echo "SLURM_CONF=$conf"; return 0
  fi
  do_stop >/dev/null 2>&1 || true
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"

  # munge: the key must belong to munge, mode 400; munged refuses to run as root without --force.
  if ! munge_answers; then
    if [ ! -s /etc/munge/munge.key ]; then
      mkdir -p /etc/munge
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge
    chown munge:munge /run/munge 2>/dev/null || true
    munged --force --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" \
      || { say "ERROR: munged did not start ($dir/log/munged.log)."; exit 2; }
    for _ in $(seq 50); do munge_answers && break; sleep 0.1; done
    munge_answers || { say "ERROR: munged started but does not answer ($dir/log/munged.log)."; exit 2; }
  fi

  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2/1024*0.9)}' /proc/meminfo)
  cat > "$conf" <<EOF
# Written by scripts/slurm-local.sh: a single-node cluster on loopback.
ClusterName=afmlocal
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
SlurmctldPort=${AFM_SLURMCTLD_PORT:-6817}
SlurmdPort=${AFM_SLURMD_PORT:-6818}
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerType=sched/backfill
MinJobAge=3600
MaxArraySize=100001
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  SLURM_CONF=$conf slurmctld -i || { say "ERROR: slurmctld did not start:"; tail -20 "$dir/log/slurmctld.log" >&2 || true; do_stop; exit 2; }
  SLURM_CONF=$conf slurmd || { say "ERROR: slurmd did not start:"; tail -20 "$dir/log/slurmd.log" >&2 || true; do_stop; exit 2; }
  for _ in $(seq 100); do
    pid_alive "$dir/slurmctld.pid" && pid_alive "$dir/slurmd.pid" && \
      SLURM_CONF=$conf sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)' && break
    sleep 0.2
  done
  if ! SLURM_CONF=$conf sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    say "ERROR: the node did not become idle:"; SLURM_CONF=$conf sinfo >&2 || true
    tail -10 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    do_stop; exit 2
  fi
  # Stops by itself if nobody calls stop (a killed test run, a forgotten shell).
  (
    trap - EXIT
    exec >/dev/null 2>&1 </dev/null
    sleep "$ttl" &
    echo $! > "$dir/watchdog-sleep.pid"
    wait $! && AFM_SLURM_DIR=$dir "$0" stop
  ) &
  echo $! > "$dir/watchdog.pid"
  say "up: node $host, $cpus CPUs, on 127.0.0.1 (stops by itself after ${ttl}s)"
  echo "SLURM_CONF=$conf"
}

case "${1:-}" in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
