#!/usr/bin/env bash
# The netns tool published as users install it (NativeAOT for this machine) against ip netns, whole processes:
# list, identify, pids, add+delete, exec NAME /bin/true; medians of ROUNDS interleaved pairs (default 300).
# Uses the real /run/netns with names of its own (lnb-PID-…), removed at the end. Needs root, clang (docs/netns-tool.md).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-300}
case $(uname -m) in x86_64) rid=linux-x64 ;; aarch64) rid=linux-arm64 ;; *) echo "no NativeAOT package for $(uname -m)" >&2; exit 1 ;; esac
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out="$repo/src/LinuxNetns.Tool/bin/tool-cost"
dotnet publish "$repo/src/LinuxNetns.Tool" -c Release -r "$rid" -o "$out" >/dev/null
dotnet run -c Release --project "$repo/benchmarks/LinuxNetns.Benchmarks" -- --tool-cost "$out/netns" "$rounds"
