// Package poll owns the one test helper that waits for a condition: tests
// of asynchronous code (informers, controllers, background mirrors) poll
// until something holds or a guard timeout passes, and then fail saying what
// they waited for and what they saw last. It wraps
// k8s.io/apimachinery's wait.PollUntilContextTimeout and imports nothing of
// splitproof.
package poll
