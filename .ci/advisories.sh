#!/usr/bin/env bash
# No crate with a published advisory in the build: h2 0.3 (RUSTSEC-2026-0258), rustls 0.21
# and rustls-webpki 0.101 (RUSTSEC-2026-0098, -0099, -0104) came only from the AWS SDK
# crates' default `rustls` feature. `cargo tree -i` exits non-zero when the package is
# absent: that is the pass.
set -uo pipefail
cd "$(dirname "$0")/.."
bad=0
for spec in h2@0.3 rustls@0.21 rustls-webpki@0.101; do
    if cargo tree --target all -i "$spec" >/tmp/advisory-tree.txt 2>/dev/null; then
        echo "advisory: $spec is in the build:"
        cat /tmp/advisory-tree.txt
        bad=1
    else
        echo "ok: no $spec"
    fi
done
exit "$bad"
