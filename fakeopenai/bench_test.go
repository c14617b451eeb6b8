package fakeopenai_test

import (
	"context"
	"testing"

	"github.com/splitproof/splitproof/fakeopenai"
)

// BenchmarkChatCompletion measures non-streaming chat completions per second
// through the official SDK over loopback, server and client in one process.
func BenchmarkChatCompletion(b *testing.B) {
	_, _, client := MustServe(b, fakeopenai.Config{Keys: []string{testKey}, Seed: 1})
	params := chatParams("gpt-4o-mini", "What is 2+2?")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := client.Chat.Completions.New(ctx, params); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
