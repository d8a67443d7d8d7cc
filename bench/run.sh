#!/usr/bin/env bash
# placeholder until the side-by-side benchmarks land; fails loudly
echo "bench: not implemented yet; per-packet costs: build/tests/fixture_runner --bench" >&2
exit 2
