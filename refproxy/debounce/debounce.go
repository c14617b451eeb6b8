package debounce

import (
	"context"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// DefaultDelay is how long a change waits for more changes before the run
// it triggers: long enough to collect one kubectl apply, short enough not to
// be noticed.
const DefaultDelay = 100 * time.Millisecond

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// Handler enqueues key, after delay d, on every create, update, delete and
// generic event, whatever the object.
func Handler(key reconcile.Request, d time.Duration) handler.TypedEventHandler[client.Object, reconcile.Request] {
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc:  func(_ context.Context, _ event.TypedCreateEvent[client.Object], q queue) { q.AddAfter(key, d) },
		UpdateFunc:  func(_ context.Context, _ event.TypedUpdateEvent[client.Object], q queue) { q.AddAfter(key, d) },
		DeleteFunc:  func(_ context.Context, _ event.TypedDeleteEvent[client.Object], q queue) { q.AddAfter(key, d) },
		GenericFunc: func(_ context.Context, _ event.TypedGenericEvent[client.Object], q queue) { q.AddAfter(key, d) },
	}
}
