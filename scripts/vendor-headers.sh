#!/usr/bin/env bash
# Copies the header-only dependencies of the GPU check build (fmt, nlohmann-json, toml++, CLI11) from this
# machine's /usr/include into .gpu-deps/include, so scripts/gpu-check.sh can build on a GPU machine
# with no package registry. .gpu-deps/ is git-ignored: never commit the copies; carry the folder
# with the working tree (the device runner's `carry: [".gpu-deps"]`).
#   scripts/vendor-headers.sh [DEST]      (default: .gpu-deps)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-.gpu-deps}
inc=$dest/include
mkdir -p "$inc"
for d in fmt nlohmann toml++ CLI; do
  src=/usr/include/$d
  [ -d "$src" ] || { echo "vendor-headers: $src missing (apt-get install libfmt-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev)"; exit 1; }
  rm -rf "${inc:?}/$d"
  cp -r "$src" "$inc/$d"
done
# Versions, for the record.
{
  echo "fmt $(dpkg-query -W -f='${Version}' libfmt-dev 2>/dev/null || echo '?')"
  echo "nlohmann-json $(dpkg-query -W -f='${Version}' nlohmann-json3-dev 2>/dev/null || echo '?')"
  echo "toml++ $(dpkg-query -W -f='${Version}' libtomlplusplus-dev 2>/dev/null || echo '?')"
  echo "CLI11 $(dpkg-query -W -f='${Version}' libcli11-dev 2>/dev/null || echo '?')"
} > "$dest/VERSIONS"
echo "vendor-headers: $(du -sh "$dest" | cut -f1) in $dest ($(tr '\n' ';' < "$dest/VERSIONS"))"
