#!/usr/bin/env bash
# Builds bin/splitproof, the one binary of the project.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mkdir -p bin
go build -trimpath -ldflags "$LDFLAGS" -o bin/splitproof ./cmd/splitproof
echo "bin/splitproof ($VERSION)"
