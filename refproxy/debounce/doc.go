// Package debounce owns the event handler of splitproof's rebuild-everything
// controllers (refproxy's controller mode and the provisioner). Neither has
// per-object work: any change to a watched object means "recompute the whole
// state", so every event enqueues the same single key after a delay, and the
// workqueue, which holds a key at most once, folds a burst of events (a
// kubectl apply of many objects, an informer resync) into one run.
//
// It depends on controller-runtime's handler types only, so the provisioner
// need not import the data-plane controller to share it.
package debounce
