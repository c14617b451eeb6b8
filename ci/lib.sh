# Shared setup for the ci/ scripts: strict mode, repository root, Go on PATH.
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
cd "$REPO_ROOT"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
export PATH="$(go env GOPATH)/bin:$PATH"
VERSION="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
export VERSION
LDFLAGS="-X github.com/splitproof/splitproof/internal/cli.Version=${VERSION}"
export LDFLAGS

log() { printf '\n==> %s\n' "$*" >&2; }
