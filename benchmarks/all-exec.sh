#!/usr/bin/env bash
# `netns -all exec /bin/true` against `ip -all netns exec /bin/true` with N namespaces present (default 100), each run
# R times (default 10), interleaved; prints the medians. Runs in a private mount namespace whose /run/netns is an empty
# tmpfs, so only the namespaces it makes exist there and nothing outside is touched. Needs root.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-100}
rounds=${2:-10}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build "$repo/src/LinuxNetns.Tool" -c Release -o "$repo/src/LinuxNetns.Tool/bin/all-exec" >/dev/null
tool="$repo/src/LinuxNetns.Tool/bin/all-exec/netns"
unshare --mount --propagation private bash -s "$tool" "$count" "$rounds" <<'SANDBOX'
set -euo pipefail
tool=$1 count=$2 rounds=$3
mkdir -p /run/netns && mount -t tmpfs lnt-all-exec /run/netns
for i in $(seq 1 "$count"); do ip netns add "lnt-all-$i"; done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ms() { local s=$(date +%s%N); "$@" >/dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000000 )); }
ours=() theirs=()
for r in $(seq 1 "$rounds"); do
  ours+=("$(ms "$tool" -all exec /bin/true)")
  theirs+=("$(ms ip -all netns exec /bin/true)")
done
o=$(printf '%s\n' "${ours[@]}" | median) t=$(printf '%s\n' "${theirs[@]}" | median)
echo "-all exec /bin/true with $count namespaces, median of $rounds: netns ${o} ms, ip ${t} ms, ratio $(awk -v a="$o" -v b="$t" 'BEGIN {printf "%.2f", a / b}')"
for i in $(seq 1 "$count"); do ip netns delete "lnt-all-$i"; done
SANDBOX
