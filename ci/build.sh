#!/usr/bin/env bash
# Builds bin/splitproof, the one binary of the project: static (CGO_ENABLED=0,
# see ci/lib.sh), so the same file runs on the host and in the images.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mkdir -p bin
static_go build -ldflags "$LDFLAGS" -o bin/splitproof ./cmd/splitproof
echo "bin/splitproof ($VERSION)"
