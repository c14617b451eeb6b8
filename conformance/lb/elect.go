package lb

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Election makes LoadBalancers of one cluster safe to run more than once:
// a long-lived one beside a kept cluster (`splitproof kind lb`) and the
// suites' own (StartKind) take one Lease, and only its holder assigns
// addresses and routes. A standby takes over when the holder stops (it
// releases the Lease after removing its routes) or dies (the Lease expires).
type Election struct {
	// Namespace and Name of the Lease; Identity names this instance in it.
	Namespace, Name, Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod as in client-go's
	// leaderelection; zero values take 15 s, 10 s and 2 s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// KindElection is the Lease the LoadBalancers of kind cluster `cluster`
// share: kube-system/splitproof-lb, held by host name and PID.
func KindElection(cluster string) Election {
	host, _ := os.Hostname()
	return Election{Namespace: "kube-system", Name: "splitproof-lb", Identity: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), cluster)}
}

// StartElected runs c while this instance holds e's Lease, in the
// background, until stop is called. stop ends the controller first (its
// routes removed) and only then releases the Lease, so the next holder
// never races a departing one over a route.
func StartElected(kube kubernetes.Interface, c *Controller, e Election, logger *slog.Logger) (stop func() error, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	def := func(d, v time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return v
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: e.Namespace, Name: e.Name},
		Client:     kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: e.Identity},
	}
	var (
		mu      sync.Mutex
		stopped bool
		running bool
		runDone = make(chan error, 1)
	)
	runCtx, runCancel := context.WithCancel(context.Background())
	cfg := leaderelection.LeaderElectionConfig{
		Lock:            lock,
		Name:            e.Name,
		LeaseDuration:   def(e.LeaseDuration, 15*time.Second),
		RenewDeadline:   def(e.RenewDeadline, 10*time.Second),
		RetryPeriod:     def(e.RetryPeriod, 2*time.Second),
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leading context.Context) {
				mu.Lock()
				if stopped {
					mu.Unlock()
					return
				}
				running = true
				mu.Unlock()
				logger.Info("LoadBalancer leading", "lease", e.Namespace+"/"+e.Name, "identity", e.Identity)
				// Ends when stop is called or the Lease is lost.
				ctx, cancel := context.WithCancel(leading)
				defer cancel()
				unhook := context.AfterFunc(runCtx, cancel)
				defer unhook()
				runDone <- c.Run(ctx)
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(id string) {
				if id != e.Identity {
					logger.Info("LoadBalancer standing by", "leader", id)
				}
			},
		},
	}
	le, err := leaderelection.NewLeaderElector(cfg)
	if err != nil {
		runCancel()
		return nil, fmt.Errorf("LoadBalancer election: %w", err)
	}
	leCtx, leCancel := context.WithCancel(context.Background())
	leDone := make(chan struct{})
	go func() {
		defer close(leDone)
		le.Run(leCtx)
	}()
	return func() error {
		mu.Lock()
		stopped = true
		wasRunning := running
		mu.Unlock()
		runCancel()
		var err error
		if wasRunning {
			err = <-runDone
		}
		leCancel()
		<-leDone
		return err
	}, nil
}
