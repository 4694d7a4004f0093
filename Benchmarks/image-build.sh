#!/bin/sh
# Image build benchmark: see Benchmarks/image-build/run.sh (release build, step by step, beside a plain pipeline).
# The swift-testing suite ImageBenchmark (GOLD_BENCHMARK=1 swift test --filter ImageBenchmark) still builds ten
# machines and a second version in a debug build, and boots one image under QEMU.
exec "$(dirname "$0")/image-build/run.sh" "$@"
