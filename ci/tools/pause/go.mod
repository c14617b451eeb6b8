// The sandbox ("pause") binary of the offline kind node image.
module github.com/splitproof/splitproof/ci/tools/pause

go 1.24.0
