package debounce

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

var key = reconcile.Request{NamespacedName: types.NamespacedName{Name: "everything"}}

type added struct {
	item  reconcile.Request
	delay time.Duration
}

// recorder records AddAfter calls. Any other method of the queue is the nil
// embedded interface and panics, so a handler that called Add (no debounce)
// or Forget would fail the test.
type recorder struct {
	queue
	calls []added
}

func (r *recorder) AddAfter(item reconcile.Request, d time.Duration) {
	r.calls = append(r.calls, added{item, d})
}

func TestHandlerEnqueuesKeyAfterDelayOnEveryEvent(t *testing.T) {
	ctx := context.Background()
	obj := &corev1.Service{}
	obj.Namespace, obj.Name = "default", "some-object"
	const d = 42 * time.Millisecond
	h := Handler(key, d)
	events := []struct {
		name string
		fire func(q queue)
	}{
		{"create", func(q queue) { h.Create(ctx, event.TypedCreateEvent[client.Object]{Object: obj}, q) }},
		{"update", func(q queue) { h.Update(ctx, event.TypedUpdateEvent[client.Object]{ObjectOld: obj, ObjectNew: obj}, q) }},
		{"delete", func(q queue) { h.Delete(ctx, event.TypedDeleteEvent[client.Object]{Object: obj}, q) }},
		{"generic", func(q queue) { h.Generic(ctx, event.TypedGenericEvent[client.Object]{Object: obj}, q) }},
	}
	for _, e := range events {
		t.Run(e.name, func(t *testing.T) {
			r := &recorder{}
			e.fire(r)
			if len(r.calls) != 1 || r.calls[0] != (added{key, d}) {
				t.Errorf("queue calls = %+v, want one AddAfter(%v, %v) whatever the object", r.calls, key, d)
			}
		})
	}
}

// TestHandlerInRealQueue runs the handler against client-go's queue: nothing
// is ready before the delay, and the key is once it has passed (the later,
// shorter delay wins over the pending hour).
func TestHandlerInRealQueue(t *testing.T) {
	ctx := context.Background()
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	obj := &corev1.Service{}

	slow := Handler(key, time.Hour)
	for range 5 {
		slow.Create(ctx, event.TypedCreateEvent[client.Object]{Object: obj}, q)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("queue holds %d items right after the events, want 0 until the delay has passed", n)
	}

	fast := Handler(key, 10*time.Millisecond)
	for range 5 {
		fast.Update(ctx, event.TypedUpdateEvent[client.Object]{ObjectOld: obj, ObjectNew: obj}, q)
	}
	got := make(chan reconcile.Request, 1)
	go func() {
		item, _ := q.Get()
		got <- item
	}()
	select {
	case item := <-got:
		if item != key {
			t.Fatalf("work item = %v, want %v", item, key)
		}
		q.Done(item)
	case <-time.After(10 * time.Second):
		t.Fatal("no work item 10s after a burst debounced by 10ms")
	}
}
