#!/usr/bin/env bash
# Regenerates crates/bert-train/assets/fonts/DejaVuSans-ascii.ttf, the font `bert-train` draws loss.png with:
# DejaVu Sans cut down to printable ASCII (plus a few dashes) so it adds ~13 KB to the binary.
# Needs fonttools (`pip install fonttools`) and DejaVu Sans (Debian: fonts-dejavu-core).
set -euo pipefail
src=${1:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}
root=$(cd "$(dirname "$0")/.." && pwd)
pyftsubset "$src" --unicodes=U+0020-007E,U+00B7,U+2013,U+2212 --no-hinting \
    --layout-features=kern --output-file="$root/crates/bert-train/assets/fonts/DejaVuSans-ascii.ttf"
