#!/usr/bin/env bash
# tests/package/deb_test.sh [BUILD_DIR]: the Debian package on this machine, end to end (root).
#
#   1. builds the .deb (cpack) from BUILD_DIR, configured for prefix /usr
#   2. dpkg -i: files in FHS places, conffiles, the licence, man pages and docs, --version, the
#      approver group, the directories, a unit that systemd-analyze verify accepts with the
#      installed paths
#   3. runs /usr/sbin/cmdgated --config /etc/cmdgate/cmdgate.toml from the installed files and
#      checks it enforces default.toml: a memfd exec is killed, a normal exec runs, both logged
#   4. dpkg -r (conffiles stay, the rest goes), dpkg -P (nothing is left)
#   5. an upgrade from a release that shipped logrotate's conffile removes it
#
# Idempotent: a cmdgate package left installed by an earlier run is purged first. The daemon
# runs with default.toml for about a second, during which every memfd exec on the host is
# denied; it pins its state in a directory of its own, so other daemons are not disturbed.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[ "$(id -u)" = 0 ] || { echo "deb_test: needs root (dpkg -i, BPF)" >&2; exit 1; }

step() { printf -- '-- %s\n' "$*"; }
fail() { printf 'deb_test: FAIL: %s\n' "$*" >&2; exit 1; }
must_exist() { for p in "$@"; do [ -e "$p" ] || fail "$p is missing"; done; }
must_not_exist() { for p in "$@"; do [ ! -e "$p" ] || fail "$p is left behind"; done; }

daemon_pid=
pin=/sys/fs/bpf/cmdgate-debtest-$$
work=$(mktemp -d /tmp/cmdgate-debtest.XXXXXX)
cleanup() {
  [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$pin" "$work"
  if dpkg-query -W cmdgate >/dev/null 2>&1; then  # installed, or removed with conffiles
    dpkg -P cmdgate >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

step "package"
cmake -S . -B "$build" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
ninja -C "$build" cmdgated cmdgate man_pages >/dev/null
rm -f "$build"/cmdgate_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/cmdgate_*.deb)
dpkg-deb --info "$deb" | sed -n '/Depends/p;/Recommends/p'
deps=$(dpkg-deb -f "$deb" Depends)
for lib in libbpf1 libre2-9 libhyperscan5 libsystemd0 libsodium23 libpam0g libmosquitto1 \
  libmicrohttpd12; do
  grep -q "$lib" <<<"$deps" || fail "Depends lacks $lib: $deps"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -x -C "$work" ./conffiles ./postinst ./prerm ./postrm
diff <(sort "$work/conffiles") <(printf '%s\n' /etc/cmdgate/cmdgate.toml \
  /etc/cmdgate/rules.d/10-default.toml /etc/pam.d/cmdgate | sort) ||
  fail "conffiles differ"

if dpkg-query -W cmdgate >/dev/null 2>&1; then
  step "purging a cmdgate package left by an earlier run"
  dpkg -P cmdgate >/dev/null
fi
group_before=$(getent group cmdgate || true)

step "dpkg -i"
dpkg -i "$deb" >/dev/null
installed=$(dpkg -L cmdgate)
must_exist /usr/sbin/cmdgated /usr/bin/cmdgate /lib/systemd/system/cmdgated.service \
  /usr/lib/sysusers.d/cmdgate.conf /usr/lib/tmpfiles.d/cmdgate.conf /etc/cmdgate/cmdgate.toml \
  /etc/cmdgate/rules.d/10-default.toml /etc/pam.d/cmdgate \
  /usr/share/cmdgate/rules/default.toml /usr/share/cmdgate/rules/ai-agents.toml \
  /usr/share/cmdgate/rules/servers.toml /usr/share/doc/cmdgate/operations.md \
  /usr/share/cmdgate/monitoring/cmdgate-dashboard.json \
  /usr/share/cmdgate/monitoring/cmdgate-alerts.yml
# The licence terms, the man pages, every doc, and every doc an installed file names.
must_exist /usr/share/doc/cmdgate/copyright /usr/share/man/man1/cmdgate.1.gz \
  /usr/share/man/man5/cmdgate-rules.5.gz /usr/share/man/man8/cmdgated.8.gz
for doc in docs/*.md; do must_exist "/usr/share/doc/cmdgate/${doc#docs/}"; done
for ref in $(grep -rhoE '/usr/share/doc/cmdgate/[A-Za-z0-9._-]+' /etc/cmdgate \
               /lib/systemd/system/cmdgated.service | sort -u); do
  must_exist "$ref"
done
for page in cmdgate cmdgate-rules cmdgated; do
  man -w "$page" >/dev/null 2>&1 || fail "man $page does not find the installed page"
done
version=$(sed -nE 's/^project\(cmdgate VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)
[ "$(cmdgate --version)" = "cmdgate $version" ] || fail "cmdgate --version: $(cmdgate --version)"
[ "$(cmdgated --version)" = "cmdgated $version" ] || fail "cmdgated --version: $(cmdgated --version)"
getent group cmdgate >/dev/null || fail "the cmdgate group was not created"
for d in /var/log/cmdgate /var/lib/cmdgate; do
  [ "$(stat -c '%a %U %G' "$d")" = "750 root cmdgate" ] || fail "$d: $(stat -c '%a %U %G' "$d")"
done
systemd-analyze verify /lib/systemd/system/cmdgated.service ||
  fail "systemd-analyze verify rejects the installed unit"
cmdgate check /etc/cmdgate/rules.d /usr/share/cmdgate/rules/ai-agents.toml \
  /usr/share/cmdgate/rules/servers.toml >/dev/null || fail "the installed rules do not load"

step "cmdgated --config /etc/cmdgate/cmdgate.toml"
log=$work/cmdgated.log
decisions=/var/log/cmdgate/decisions.jsonl
start_lines=0
[ -f "$decisions" ] && start_lines=$(wc -l <"$decisions")
/usr/sbin/cmdgated --config /etc/cmdgate/cmdgate.toml --pin-dir "$pin" 2>"$log" &
daemon_pid=$!
for _ in $(seq 200); do
  grep -q "enforcing:" "$log" && break
  kill -0 "$daemon_pid" 2>/dev/null || fail "cmdgated exited: $(cat "$log")"
  sleep 0.05
done
grep -q "enforcing:" "$log" || fail "cmdgated did not start: $(cat "$log")"
grep -q "from 1 file(s)" "$log" || fail "expected the one rules file of rules.d: $(cat "$log")"

# A program run from an anonymous memory file, as fileless malware does (through sh, whose
# "Killed" report goes to /dev/null: the exit status says it).
memfd_rc=0
sh -c '/usr/bin/python3 -c "$1"; exit $?' sh '
import os
fd = os.memfd_create("payload")
os.write(fd, open("/usr/bin/true", "rb").read())
os.execve(fd, ["payload"], {})' 2>/dev/null || memfd_rc=$?
[ "$memfd_rc" = 137 ] || fail "memfd exec exit status $memfd_rc, expected 137 (SIGKILL)"
/usr/bin/env true || fail "a normal exec failed"

kill -TERM "$daemon_pid"
stop_rc=0
wait "$daemon_pid" || stop_rc=$?
daemon_pid=
[ "$stop_rc" = 0 ] || fail "cmdgated exited $stop_rc on SIGTERM: $(cat "$log")"
new=$(tail -n +"$((start_lines + 1))" "$decisions")
# default.toml lets container runtimes re-exec from a memfd, so the kernel parks every memfd
# exec and the daemon, having looked at the parent, kills it.
grep '"rule":"no-fileless-exec"' <<<"$new" | grep '"decided_by":"daemon"' |
  grep -q '"outcome":"denied"' ||
  fail "no killed memfd exec in $decisions: $(grep '"memfd"' <<<"$new" | head -3)"
grep '"exe":"/usr/bin/env"' <<<"$new" | grep -q '"outcome":"audited"' ||
  fail "no audited /usr/bin/env exec in $decisions"
echo "   memfd exec killed (no-fileless-exec), /usr/bin/env ran (audited)"

step "cmdgated --uninstall"
# A stopped daemon's programs go on enforcing its last policy until they are uninstalled.
[ -d "$pin" ] || fail "the stopped daemon left no pinned state at $pin"
/usr/sbin/cmdgated --config /etc/cmdgate/cmdgate.toml --pin-dir "$pin" --uninstall ||
  fail "cmdgated --uninstall failed"
must_not_exist "$pin"

step "dpkg -r"
dpkg -r cmdgate >/dev/null
must_not_exist /usr/sbin/cmdgated /usr/bin/cmdgate /lib/systemd/system/cmdgated.service \
  /usr/share/cmdgate /run/cmdgate
must_exist /etc/cmdgate/cmdgate.toml /etc/cmdgate/rules.d/10-default.toml

step "dpkg -P"
dpkg -P cmdgate >/dev/null
left=$(while read -r f; do [ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done <<<"$installed" || true)
[ -z "$left" ] || fail "files left behind: $left"
must_not_exist /etc/cmdgate /var/log/cmdgate /var/lib/cmdgate /usr/share/doc/cmdgate
if [ -z "$group_before" ] && getent group cmdgate >/dev/null; then
  fail "the cmdgate group is left behind"
fi

step "upgrade from a release that shipped /etc/logrotate.d/cmdgate"
old=$work/old
mkdir -p "$old/DEBIAN" "$old/etc/logrotate.d"
printf '/var/log/cmdgate/decisions.jsonl {\n  weekly\n}\n' >"$old/etc/logrotate.d/cmdgate"
echo /etc/logrotate.d/cmdgate >"$old/DEBIAN/conffiles"
printf '%s\n' "Package: cmdgate" "Version: 0.1.0" "Architecture: $(dpkg --print-architecture)" \
  "Maintainer: cmdgate tests <tests@cmdgate.invalid>" "Description: a release before 0.2.0" \
  >"$old/DEBIAN/control"
dpkg-deb --root-owner-group --build "$old" "$work/old.deb" >/dev/null
dpkg -i "$work/old.deb" >/dev/null
must_exist /etc/logrotate.d/cmdgate
dpkg -i "$deb" >/dev/null
must_not_exist /etc/logrotate.d/cmdgate /etc/logrotate.d/cmdgate.dpkg-remove \
  /etc/logrotate.d/cmdgate.dpkg-bak
dpkg -P cmdgate >/dev/null
step "deb_test: ok"
