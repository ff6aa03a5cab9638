#!/usr/bin/env bash
# Wall time of an exec-heavy build (N C files, make -j2) under three policies, interleaved in
# rounds so that a noisy machine's drift hits all alike:
#   off       cmdgated with rules/default.toml only
#   on        default.toml + ai-agents.toml, the build run from a person's shell
#   agent     the same rules, the build run by a process the kernel labels as an agent (a bash
#             named `claude`, the pack's first declared agent)
# Prints the median of each and its ratio to `off`. Then the same for the tools the pack names,
# run in a loop by a shell (TOOL_LOOPS times `git --version; bash -c true; rm -f FILE`): with no
# agent running they must stay on the kernel's path.
# Usage: sudo bench/agent_build.sh BUILD_DIR [FILES=300] [ROUNDS=3] [TOOL_LOOPS=300]
set -euo pipefail
build=$(realpath "$1")
files=${2:-300}
rounds=${3:-3}
tool_loops=${4:-300}
src=$(dirname "$(realpath "$0")")/..
work=$(mktemp -d /tmp/cmdgate-agent-build.XXXXXX)
trap 'kill $daemon 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/src"
for i in $(seq 1 "$files"); do
  printf 'int f%d(int x) { return x * %d + 1; }\n' "$i" "$i" >"$work/src/f$i.c"
done
printf 'SRCS := $(wildcard src/*.c)\nOBJS := $(SRCS:.c=.o)\nall: $(OBJS)\n%%.o: %%.c\n\t@cc -O0 -c $< -o $@\n' \
  >"$work/Makefile"
cp /bin/bash "$work/claude"
printf 'cd "%s"\nfor i in $(seq 1 %d); do git --version >/dev/null; bash -c true; rm -f none; done\n' \
  "$work" "$tool_loops" >"$work/tools.sh"

daemon=
start() { # RULES...
  local args=() r
  for r in "$@"; do args+=(--rules "$r"); done
  "$build/agent/cmdgated" "${args[@]}" --audit-log "$work/decisions.jsonl" --pin-dir "" \
    --socket "$work/cmdgate.sock" 2>"$work/cmdgated.log" &
  daemon=$!
  for _ in $(seq 1 400); do grep -q "enforcing:" "$work/cmdgated.log" && return 0; sleep 0.05; done
  cat "$work/cmdgated.log"
  exit 1
}
stop() { kill "$daemon"; wait "$daemon" || true; daemon=; }
timed() { # COMMAND...: seconds of a clean build
  rm -f "$work"/src/*.o
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}' 
}

declare -A times
for r in $(seq 1 "$rounds"); do
  start "$src/rules/default.toml"
  times[off]+="$(timed make -C "$work" -s -j2) "
  times[tools_off]+="$(timed bash "$work/tools.sh") "
  stop
  start "$src/rules/default.toml" "$src/rules/ai-agents.toml"
  times[on]+="$(timed make -C "$work" -s -j2) "
  times[agent]+="$(timed "$work/claude" -c "make -C '$work' -s -j2") "
  times[tools_on]+="$(timed bash "$work/tools.sh") "
  times[tools_agent]+="$(timed "$work/claude" "$work/tools.sh") "
  stop
  echo "round $r/$rounds done" >&2
done
held=$(grep -c '"outcome":"parked"' "$work/decisions.jsonl" || true)

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(echo "${times[off]}" | median)
printf '%-6s %10s %8s   (%s C files, make -j2, median of %s)\n' policy seconds ratio "$files" "$rounds"
for c in off on agent; do
  m=$(echo "${times[$c]}" | median)
  printf '%-6s %10.2f %8.3f\n' "$c" "$m" "$(awk -v a="$m" -v b="$base" 'BEGIN {print a / b}')"
done
tools_base=$(echo "${times[tools_off]}" | median)
printf '%-12s %10s %8s   (%s x git --version, bash -c true, rm -f)\n' policy seconds ratio "$tool_loops"
for c in tools_off tools_on tools_agent; do
  m=$(echo "${times[$c]}" | median)
  printf '%-12s %10.2f %8.3f\n' "$c" "$m" "$(awk -v a="$m" -v b="$tools_base" 'BEGIN {print a / b}')"
done
echo "held for a person during the builds: $held"
