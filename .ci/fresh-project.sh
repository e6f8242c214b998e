#!/usr/bin/env bash
# Builds the README's "Use it in your project" program in a fresh cargo
# project, exactly as the README says: a new binary crate beside a clone
# named `touchpoint`, the README's dependency line, and the README's
# `src/main.rs` (extracted from README.md, so the two cannot drift), then runs it.
# Also checks that the README's main.rs is identical to examples/readme_main.rs.
# Uses $CARGO_TARGET_DIR if set (to share a build cache), else the fresh project's own.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# the code block right after the marker line
awk '/<!-- readme-main: examples\/readme_main.rs -->/ {m=1; next}
     m==1 && /^```rust$/ {m=2; next}
     m==2 && /^```$/ {exit}
     m==2 {print}' "$repo/README.md" > "$tmp/main.rs"
[ -s "$tmp/main.rs" ] || { echo "fresh-project: no main.rs block in README.md" >&2; exit 1; }
if ! diff -u "$repo/examples/readme_main.rs" "$tmp/main.rs"; then
  echo "fresh-project: README's main.rs differs from examples/readme_main.rs" >&2
  exit 1
fi

# the dependency line, as the README writes it
dep="$(grep -m1 '^touchpoint = { path = "../touchpoint" }$' "$repo/README.md")" || {
  echo "fresh-project: README lacks the line: touchpoint = { path = \"../touchpoint\" }" >&2
  exit 1
}

ln -s "$repo" "$tmp/touchpoint"
cargo new --quiet --bin --vcs none --name myapp "$tmp/myapp"
printf '%s\n' "$dep" >> "$tmp/myapp/Cargo.toml"
cp "$tmp/main.rs" "$tmp/myapp/src/main.rs"
cd "$tmp/myapp"
cargo run --quiet
echo "fresh-project: the README's main.rs builds and runs in a fresh project"
