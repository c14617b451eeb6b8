#!/usr/bin/env bash
# The main job on the embedded default: refproxy, helloworld v1/v2/v3 and a
# fake OpenAI provider run in-process on loopback; the doc's two examples, and
# Example 2 streamed, are replayed with their own curl snippets (sequential
# tests, the default), each split gets a verdict, the LLM replays their tokens
# per model, and one line states the run's false-failure rate.
# Extra arguments go to `splitproof demo` (e.g. make demo ARGS=--fixed).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$REPO_ROOT/ci/build.sh" >/dev/null
read -ra extra <<<"${ARGS:-}"
exec "$REPO_ROOT/bin/splitproof" demo "${extra[@]}" "$@"
