#!/bin/sh
# Regenerates Sources/GoldServer/LabKernels.swift from Lab/kernels/*.config (the lab's kernel fragments).
# LabKernelsTests fails when the two disagree.
set -eu
cd "$(dirname "$0")/.."
out=Sources/GoldServer/LabKernels.swift
{
    echo "/// The lab's kernel fragments, generated from Lab/kernels/*.config by scripts/lab-kernels.sh (see docs/dev/lab-kernel.md)."
    echo "public enum LabKernels {"
    for name in lab panics; do
        file=Lab/kernels/lab.config
        [ "$name" = panics ] && file=${PANICS_FILE:-Lab/kernels/lab-panics.config}
        echo "    /// $file"
        echo "    public static let $name: [String] = ["
        grep -E '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set)' "$file" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/        "/; s/$/",/'
        echo "    ]"
    done
    echo "}"
} > "$out"
echo "wrote $out"
