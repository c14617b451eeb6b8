package install

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// Rolled reports whether d's current template is rolled out to every
// replica and Available, and otherwise what is still pending.
func Rolled(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	switch {
	case d.Status.ObservedGeneration < d.Generation:
		return false, fmt.Sprintf("generation %d not observed yet", d.Generation)
	case d.Status.UpdatedReplicas != want || d.Status.AvailableReplicas != want:
		return false, fmt.Sprintf("%d updated and %d available of %d replicas", d.Status.UpdatedReplicas, d.Status.AvailableReplicas, want)
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return true, ""
		}
	}
	return false, "condition Available is not True"
}

// WaitRolled polls Deployment ns/name every second until Rolled or ctx
// ends; the error then says what was still pending.
func WaitRolled(ctx context.Context, kube kubernetes.Interface, ns, name string) error {
	var last string
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		d, err := kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			// Not there yet, or the API server briefly unreachable: keep
			// polling, and report it if it lasts.
			last = err.Error()
			return false, nil
		}
		ok, pending := Rolled(d)
		last = pending
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("Deployment %s/%s not rolled out: %s", ns, name, last)
	}
	return nil
}
