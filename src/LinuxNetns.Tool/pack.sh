#!/usr/bin/env bash
# Packs the netns tool as .NET 10 packs a RID-specific tool, into OUTPUT (default ./artifacts):
#   LinuxNetns.Tool              the pointer package users install; dotnet tool install picks one of these by RID:
#   LinuxNetns.Tool.linux-x64    NativeAOT executable, statically linked: needs no .NET runtime, no shared library
#   LinuxNetns.Tool.linux-arm64  NativeAOT executable, statically linked: needs no .NET runtime, no shared library
#   LinuxNetns.Tool.any          framework-dependent, for every other platform (needs the .NET 10 runtime)
# Building the native ones needs clang (Debian: clang zlib1g-dev) and glibc's static libraries (libc6-dev); the other
# architecture's is cross-compiled and needs its binutils and C runtime (on x64: gcc-aarch64-linux-gnu; on arm64:
# gcc-x86-64-linux-gnu).
# Usage: pack.sh [OUTPUT] [VERSION]
set -euo pipefail
project=$(cd "$(dirname "$0")" && pwd)
output=${1:-./artifacts}
version=${2:-}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
for rid in "" any linux-x64 linux-arm64; do
  if ! dotnet pack "$project" -c Release ${rid:+-r "$rid"} -o "$output" ${version:+-p:Version="$version"} >/dev/null; then
    echo "pack.sh: dotnet pack ${rid:+-r $rid }failed (for a native RID: are clang and the cross toolchain installed? see above)" >&2
    exit 1
  fi
done
