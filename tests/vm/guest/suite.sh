# tests/vm/guest/suite.sh MODE: the VM suite's checks, run by /init inside the guest against the
# real cmdgated (busybox ash).
#   lsm      "bpf" is in the LSM list: denied execs fail with EPERM inside execve, parked
#            processes and the daemon are guarded by task_kill and ptrace_access_check.
#   control  "bpf" is not: the daemon must choose the tracepoint and say so, denials are SIGKILLs
#            before the first instruction. Nothing stops a parked process's owner resuming it
#            here (Debian's 6.1 has no bpf_send_signal_task for the escape guard either), so an
#            ask is denied at once; with unsafe_park = "park" the attacks the LSM refuses
#            succeed, which shows that the lsm run's checks can fail.
# Prints "PASS: mode: what" / "FAIL: mode: what" per check and "cgvm: done: P passed, F failed".

mode=$1
pass=0
fail=0
n=0
B=/work/bin
LOG= # this start's log, see new_log
starts=0
DEC=/tmp/decisions.jsonl
PIN=/sys/fs/bpf/cmdgate-vm
daemon=

ok() { pass=$((pass + 1)); echo "PASS: $mode: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $mode: $*"; }
# check WHAT PREDICATE [ARGS...]: a predicate prints why it failed.
check() { what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
# expect WHAT lsm-predicate control-predicate: one check whose expectation depends on the mode.
expect() { if [ "$mode" = lsm ]; then check "$1" $2; else check "$1" $3; fi; }

marker() { n=$((n + 1)); m=/tmp/marker.$n; }
# wait_until SECONDS PREDICATE [ARGS...]: polls every 0.1 s.
wait_until() {
  t=$(($1 * 10))
  shift
  while [ $t -gt 0 ]; do
    "$@" && return 0
    sleep 0.1
    t=$((t - 1))
  done
  "$@"
}
state() { sed -n 's/^.*) \([A-Za-z]\) .*$/\1/p' /proc/$1/stat 2>/dev/null; }
stopped() { [ "$(state $1)" = T ]; }
gone() { [ ! -e /proc/$1 ] || [ "$(state $1)" = Z ]; }
alive() { kill -0 $1 2>/dev/null; }
exists() { [ -e "$1" ]; }
say() { echo "    $*"; return 1; }
has() { case "$1" in *"$2"*) return 0 ;; esac; say "expected '$2' in: $1"; }

# A decision line holding every given fragment, within 5 s (denials are drained on a 50 ms tick).
decision_now() {
  l=$(cat $DEC 2>/dev/null)
  for p in "$@"; do
    l=$(printf '%s\n' "$l" | grep -F -- "$p") || return 1
  done
}
decision() { wait_until 5 decision_now "$@" || say "no decision with: $*"; }

# ---- cmdgated --------------------------------------------------------------------------------

new_log() {
  starts=$((starts + 1))
  LOG=/tmp/cmdgated.$starts.log
}
enforcing() { grep -q "enforcing:" $LOG || ! alive $daemon; }
# start_daemon RULES [FLAGS...]: 0 once it enforces.
start_daemon() {
  rules=$1
  shift
  new_log
  cmdgated --rules "$rules" --audit-log $DEC --pin-dir $PIN "$@" 2>>$LOG &
  daemon=$!
  wait_until 180 enforcing
  grep -q "enforcing:" $LOG && return 0
  sed 's/^/    | /' $LOG
  return 1
}
stop_daemon() {
  kill -TERM $daemon 2>/dev/null
  wait $daemon
  rc=$?
  daemon=
  return $rc
}
logged() { grep -qF -- "$1" $LOG || say "not in the daemon's log: $1"; }

# ---- the programs under test ------------------------------------------------------------------

mkdir -p $B /work/other /work/globbed
for p in target told allowed flagged asked parked; do
  cp /opt/cg/cg_marker $B/$p
  echo "cgvm:$p" >>$B/$p # distinct contents: only the target's copy matches the hash rule
  chmod 755 $B/$p
done
cp /opt/cg/cg_fast_marker $B/fastparked # acts with its first instructions (no loader)
mkdir -p /tmp/u1000 && chmod 777 /tmp/u1000
ln $B/target $B/hardlink
ln -s $B/target $B/symlink
cp $B/target /work/other/copy
cp $B/allowed /work/globbed/tool
printf '#!/bin/sh\necho script ran\n' >$B/script.sh
chmod 755 $B/script.sh

cat >/work/rules.toml <<EOF
default_action = "allow"
[[rule]]
id = "deny-target"
action = "deny"
path = "$B/target"
[[rule]]
id = "deny-glob"
action = "deny"
path = "/work/globbed/**"
[[rule]]
id = "deny-script"
action = "deny"
path = "$B/script.sh"
[[rule]]
id = "no-bad-flag"
action = "deny"
path = "$B/flagged"
args = "^--bad\$"
[[rule]]
id = "deny-told"
action = "deny"
path = "$B/told"
message = "cgvm: not this one"
[[rule]]
id = "ask-short"
action = "ask"
path = "$B/asked"
timeout = "300ms"
[[rule]]
id = "ask-long"
action = "ask"
path = ["$B/parked", "$B/fastparked"]
timeout = "10m"
EOF
cp /work/rules.toml /work/rules-plain.toml

# ---- checks -----------------------------------------------------------------------------------

btf() { [ -r /sys/kernel/btf/vmlinux ] || say "no /sys/kernel/btf/vmlinux"; }

# denied PROGRAM [CD-DIR]: it must not run; lsm: execve fails with EPERM and the caller goes on,
# control: killed before its first instruction.
denied_lsm() {
  marker
  out=$(cd "${2:-/}" && cg_vm_tool exec "$1" $m)
  rc=$?
  exists $m && say "it ran"
  [ $rc = 0 ] && [ "$out" = "execve: EPERM" ] || say "rc $rc, output '$out'"
}
denied_control() {
  marker
  { out=$(cd "${2:-/}" && cg_vm_tool exec "$1" $m); rc=$?; } 2>/dev/null # no "Killed"
  exists $m && say "it ran"
  [ $rc = 137 ] || say "rc $rc (want 137, SIGKILL), output '$out'"
}
how= # overrides $mode for denied(): what a forced --enforcement must look like
denied() { if [ "${how:-$mode}" = lsm ]; then denied_lsm "$@"; else denied_control "$@"; fi; }

# SHELL -c 'target; echo rc=$?': lsm: the shell reports EPERM, the command's status is 126 and
# the shell carries on; control: the child is killed (137).
shell_denied() {
  marker
  out=$($1 -c "$B/target $m; echo rc=\$?" 2>&1)
  exists $m && say "it ran"
  if [ "$mode" = lsm ]; then
    has "$out" "Operation not permitted" && has "$out" "rc=126"
  else
    has "$out" "rc=137"
  fi
}
# A denial whose rule has a message: the caller reads it on its stderr (lsm: the shell that got
# EPERM, told after the fact, so it lingers a moment; control: the process, before its SIGKILL).
denial_told() {
  marker
  out=$(sh -c "$B/told $m; sleep 1" 2>&1)
  exists $m && say "it ran"
  has "$out" "cmdgate: denied" && has "$out" "cgvm: not this one (rule deny-told)" ||
    { grep -F '"deny-told"' $DEC | sed 's/^/    | /'; return 1; }
}
shell_exit_status() {
  { out=$($1 -c "$B/target /tmp/never" 2>&1); rc=$?; } 2>/dev/null
  want=126
  [ "$mode" = lsm ] || want=137
  [ $rc = $want ] || say "$1 exited $rc, want $want: $out"
}

allowed_runs() {
  marker
  out=$($B/allowed $m "hello world" 7)
  rc=$?
  [ $rc = 7 ] && [ "$out" = "hello world" ] && exists $m || say "rc $rc, output '$out'"
}

# `ld.so PROGRAM`: an exec of the loader; the program it maps is judged by the daemon (parked at
# the tracepoint on both boots: the LSM sees only the loader).
loader_denied() {
  marker
  { /lib64/ld-linux-x86-64.so.2 $B/target $m; rc=$?; } >/dev/null 2>&1
  ! exists $m && [ $rc = 137 ] || say "rc $rc"
}
# A denied script named by the process's own descriptor.
fd_script_denied() {
  out=$(sh -c 'exec 3<"$0"; exec /proc/self/fd/3' $B/script.sh 2>&1)
  rc=$?
  case "$out" in *"script ran"*) say "the script ran: $out"; return 1 ;; esac
  [ $rc != 0 ] || say "rc $rc"
}

evaluate_good() {
  marker
  out=$($B/flagged $m --good 3)
  rc=$?
  [ $rc = 3 ] && [ "$out" = "--good" ] && exists $m || say "rc $rc, output '$out'"
}
evaluate_bad() {
  marker
  { $B/flagged $m --bad; rc=$?; } >/dev/null 2>&1
  ! exists $m && [ $rc = 137 ] || say "rc $rc"
}

ask_times_out() {
  marker
  { $B/asked $m; rc=$?; } 2>/dev/null
  ! exists $m && [ $rc = 137 ] || say "rc $rc"
}

# A parked process owned by uid 1000 (an ask that nobody answers).
# The wrapper's own exec may be held for the daemon first (a sha256 rule sends every file the
# kernel has not learned to it): only a stop after the exec of the program itself counts.
program_parked() { stopped $1 && [ "$(cat /proc/$1/comm 2>/dev/null)" = parked ]; }
park_as_user() {
  marker
  cg_vm_tool as 1000 $B/parked $m &
  parked=$!
  wait_until 10 program_parked $parked ||
    say "process $parked did not park (state $(state $parked), $(cat /proc/$parked/comm 2>/dev/null))"
}
owner_sigcont_refused() {
  out=$(cg_vm_tool as 1000 kill -CONT $parked 2>&1)
  rc=$?
  sleep 0.5
  [ $rc != 0 ] || say "kill -CONT succeeded"
  has "$out" "Operation not permitted" && stopped $parked && ! exists $m
}
root_sigcont_refused() {
  out=$(kill -CONT $parked 2>&1)
  rc=$?
  sleep 0.5
  [ $rc != 0 ] && stopped $parked && ! exists $m || say "rc $rc, state $(state $parked): $out"
}
# Nothing refuses or catches the SIGCONT in the kernel: the process runs until the daemon's
# user-space backstop notices it is no longer stopped and kills it, too late to be sure it ran
# nothing (its first instruction may already have created the marker).
# Released, a quick program may finish before the backstop's next look: then its marker shows
# that it ran.
ran_or_caught() { exists $m || grep -qF "is running without a verdict: killing it" $LOG; }
owner_sigcont_escapes() {
  cg_vm_tool as 1000 kill -CONT $parked || say "kill -CONT refused"
  wait_until 5 ran_or_caught ||
    say "the process neither ran nor was seen running (state $(state $parked))"
}
owner_can_kill_parked() {
  cg_vm_tool as 1000 kill -KILL $parked || say "kill -KILL refused"
  { wait $parked; rc=$?; } 2>/dev/null
  [ $rc = 137 ] && ! exists $m || say "rc $rc"
}

ptrace_refused() {
  marker
  out=$(cg_vm_tool as 1000 cg_vm_tool ptrace-child $B/parked $m)
  [ "$out" = "ptrace: EPERM" ] || say "$out"
}
ptrace_allowed() {
  marker
  out=$(cg_vm_tool as 1000 cg_vm_tool ptrace-child $B/parked $m)
  [ "$out" = "ptrace: OK" ] || say "$out"
}

# The kernel continues an orphaned process group itself (SIGHUP, then SIGCONT, from exit_notify):
# a signal that is not from user space, so no task_kill hook is asked. Any user can arrange it:
# ignore SIGHUP (it survives execve), park a program in a process group of its own, and let the
# group's parent exit (cg_bypass orphan). So a process that ignores SIGHUP is never held for a
# person: its ask is denied at once.
orphan_group_cannot_continue_it() {
  out=$(cg_bypass orphan 1000 1 500 $B/fastparked /tmp/u1000/orphan)
  ! exists /tmp/u1000/orphan.0 || say "the held program ran: $out"
  has "$out" "killed-by-9"
}

user_kill_daemon_refused() {
  out=$(cg_vm_tool as 1000 kill -9 $daemon 2>&1)
  sleep 0.2
  alive $daemon && has "$out" "Operation not permitted"
}
# uid 1000 with CAP_KILL passes the kernel's own permission check; only the LSM stops it.
capkill_daemon_refused() {
  out=$(cg_vm_tool as 1000 --cap-kill kill -9 $daemon 2>&1)
  sleep 0.2
  alive $daemon && has "$out" "Operation not permitted"
}
capkill_daemon_succeeds() {
  cg_vm_tool as 1000 --cap-kill kill -9 $daemon || say "kill refused"
  { wait $daemon; rc=$?; } 2>/dev/null
  daemon=
  [ $rc = 137 ] || say "daemon exited $rc"
}

counter_positive() {
  v=$(grep "kernel counters:" $LOG | sed -n "s/.* $1=\([0-9]*\).*/\1/p")
  [ "${v:-0}" -gt 0 ] || say "counter $1 is ${v:-absent}"
}

# The first exec of an unknown file that only a hash rule can judge is parked and judged by the
# daemon (the kernel cannot hash); the daemon then teaches the kernel the file's verdict, so the
# second exec is refused in the kernel: EPERM (lsm) or SIGKILL (control).
hash_first_exec() {
  marker
  { cg_vm_tool exec /work/other/copy $m; rc=$?; } >/dev/null 2>&1
  ! exists $m && [ $rc = 137 ] || say "rc $rc"
  decision '"exe":"/work/other/copy"' '"rule":"deny-content"' '"decided_by":"daemon"'
}

# ---- the run ----------------------------------------------------------------------------------

check "kernel BTF at /sys/kernel/btf/vmlinux" btf

if start_daemon /work/rules.toml; then
  ok "cmdgated starts"
  if [ "$mode" = lsm ]; then
    check "daemon reports enforcement: lsm" logged "enforcement: lsm"
    check "daemon attached bprm_check_security, task_kill, ptrace_access_check" \
      logged "BPF LSM hooks attached: bprm_check_security, task_kill, ptrace_access_check"
    check "daemon mounted securityfs; bpf is active" grep -q "bpf" /sys/kernel/security/lsm
  else
    check "daemon reports the tracepoint fallback and why" \
      logged "enforcement: tracepoint (bpf is not in the active LSM list ("
    check "daemon mounted securityfs; bpf is not active" sh -c '! grep -q bpf /sys/kernel/security/lsm'
  fi

  check "denied by path" denied $B/target
  check "denied through a hard link" denied $B/hardlink
  check "denied through a symlink" denied $B/symlink
  check "denied by a relative path from its directory" denied ./target $B
  check "denied #! script by its own path" denied $B/script.sh
  check "denied #! script through /proc/self/fd" fd_script_denied
  check "denied program run by the dynamic loader" loader_denied
  check "denied by a path glob (path trie)" denied /work/globbed/tool
  check "busybox sh: denied command (status, message, shell carries on)" shell_denied sh
  check "bash: denied command (status, message, shell carries on)" shell_denied bash
  check "sh -c with only the denied command exits 126 (lsm) / 137" shell_exit_status sh
  check "a denial with a message tells the caller why on its stderr" denial_told
  if [ "$mode" = lsm ]; then
    check "denial logged: decided_by lsm, outcome denied, errno EPERM" decision \
      "\"exe\":\"$B/target\"" '"decided_by":"lsm"' '"outcome":"denied"' '"errno":"EPERM"' \
      '"rule":"deny-target"' '"lsm_denied"'
  else
    check "denial logged: decided_by kernel, outcome killed" decision \
      "\"exe\":\"$B/target\"" '"decided_by":"kernel"' '"outcome":"killed"' '"rule":"deny-target"'
  fi

  check "allowed program runs with its output and status" allowed_runs
  check "evaluate: args not matching the deny rule run" evaluate_good
  check "evaluate: args matching the deny rule are killed" evaluate_bad
  check "evaluate: the daemon's denial is logged" decision '"rule":"no-bad-flag"' \
    '"decided_by":"daemon"' '"outcome":"denied"'
  check "ask: unanswered ask ends in its timeout action (denied at once here)" ask_times_out
  if [ "$mode" = lsm ]; then
    check "ask: timeout logged" decision '"rule":"ask-short"' '"decided_by":"timeout"'
  else
    check "daemon says parking is not escape-proof and asks are denied" \
      logged 'asks are denied ([approval] unsafe_park = "deny")'
    check "ask: denied at once, logged as unsafe_park" decision '"rule":"ask-short"' \
      '"decided_by":"unsafe_park"' '"outcome":"denied"'
  fi

  if [ "$mode" = lsm ]; then
    check "a process of uid 1000 parks on ask" park_as_user
    check "owner's kill -CONT of the parked process: EPERM, still parked" owner_sigcont_refused
    check "root's kill -CONT of the parked process: EPERM, still parked" root_sigcont_refused
    check "owner can still kill the parked process" owner_can_kill_parked
    check "owner's ptrace attach to a parked child: EPERM" ptrace_refused
    check "an orphaned process group cannot continue a held program (SIGHUP ignored: denied)" \
      orphan_group_cannot_continue_it
    check "uid 1000 kill -9 of the daemon: EPERM" user_kill_daemon_refused
    check "uid 1000 with CAP_KILL kill -9 of the daemon: EPERM" capkill_daemon_refused
  fi

  # Reload with a hash rule: the LSM must follow the daemon to the new policy slot.
  cat /work/rules.toml >/work/rules2.toml
  cat >>/work/rules2.toml <<EOF
[[rule]]
id = "deny-content"
action = "deny"
sha256 = "$(sha256sum $B/target | cut -d' ' -f1)"
EOF
  mv /work/rules2.toml /work/rules.toml
  check "reload with a sha256 rule" wait_until 30 grep -q "policy generation 2 in force" $LOG
  check "hash-denied copy: first exec judged by the daemon" hash_first_exec
  sleep 0.5
  check "hash-denied copy: later execs refused in the kernel" denied /work/other/copy
  if [ "$mode" = lsm ]; then
    check "hash denial logged by the lsm with its rule" decision '"exe":"/work/other/copy"' \
      '"decided_by":"lsm"' '"rule":"deny-content"'
  fi

  if [ "$mode" = lsm ]; then
    check "cmdgated stops on SIGTERM from root" stop_daemon
    check "counter lsm_deny > 0" counter_positive lsm_deny
    check "counter lsm_signal_refused > 0" counter_positive lsm_signal_refused
    check "counter lsm_ptrace_refused > 0" counter_positive lsm_ptrace_refused
  else
    check "uid 1000 with CAP_KILL kills the daemon" capkill_daemon_succeeds
  fi
else
  bad "cmdgated starts"
fi

# Why asks are denied where parking is not escape-proof: parked anyway, the owner lets them run.
if [ "$mode" = control ]; then
  if start_daemon /work/rules.toml --unsafe-park park; then
    check "unsafe_park = park: the daemon says their owner can resume them" \
      logged "asks are parked anyway"
    check "unsafe_park = park: a process of uid 1000 parks on ask" park_as_user
    check "unsafe_park = park: owner's kill -CONT releases it (the backstop kills it only after)" \
      owner_sigcont_escapes
    check "unsafe_park = park: owner's ptrace attach to a parked child succeeds" ptrace_allowed
    stop_daemon
  else
    bad "cmdgated starts with --unsafe-park park"
  fi
fi

# Forcing either hook.
if [ "$mode" = lsm ]; then
  if start_daemon /work/rules-plain.toml --enforcement tracepoint; then
    check "--enforcement tracepoint is obeyed" logged "enforcement: tracepoint (configured)"
    how=control
    check "forced tracepoint: denied program is killed" denied $B/target
    how=
    stop_daemon
  else
    bad "cmdgated starts with --enforcement tracepoint"
  fi
else
  new_log
  cmdgated --rules /work/rules.toml --audit-log $DEC --pin-dir $PIN --enforcement lsm 2>>$LOG
  rc=$?
  check "--enforcement lsm refuses to start without BPF LSM" [ $rc != 0 ]
  check "--enforcement lsm says why" logged "enforcement = lsm, but the BPF LSM is unavailable"
fi

if [ $fail != 0 ]; then
  for f in /tmp/cmdgated.*.log; do
    echo "--- $f (last 30 lines)"
    tail -n 30 $f
  done
  echo "--- last decisions"
  tail -n 5 $DEC
fi
echo "cgvm: done: $pass passed, $fail failed"
[ $fail = 0 ]
