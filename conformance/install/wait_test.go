package install

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func TestRolled(t *testing.T) {
	two := int32(2)
	d := func(gen, observed int64, updated, available int32, cond corev1.ConditionStatus) *appsv1.Deployment {
		x := &appsv1.Deployment{}
		x.Generation, x.Spec.Replicas = gen, &two
		x.Status.ObservedGeneration, x.Status.UpdatedReplicas, x.Status.AvailableReplicas = observed, updated, available
		if cond != "" {
			x.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: cond}}
		}
		return x
	}
	for _, tc := range []struct {
		name    string
		d       *appsv1.Deployment
		pending string // "" = rolled
	}{
		{"rolled", d(3, 3, 2, 2, corev1.ConditionTrue), ""},
		{"new template not seen", d(4, 3, 2, 2, corev1.ConditionTrue), "not observed"},
		{"half updated", d(3, 3, 1, 2, corev1.ConditionTrue), "1 updated"},
		{"not available", d(3, 3, 2, 1, corev1.ConditionTrue), "1 available"},
		{"condition false", d(3, 3, 2, 2, corev1.ConditionFalse), "Available is not True"},
		{"no condition", d(3, 3, 2, 2, ""), "Available is not True"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, why := Rolled(tc.d)
			if ok != (tc.pending == "") || !strings.Contains(why, tc.pending) {
				t.Errorf("Rolled = %v %q, want pending %q", ok, why, tc.pending)
			}
		})
	}
}

func TestWaitRolled(t *testing.T) {
	const ns, name = "splitproof", "refproxy"
	deploy := func(available int32) *appsv1.Deployment {
		d := &appsv1.Deployment{}
		d.Namespace, d.Name, d.Generation = ns, name, 1
		d.Status.ObservedGeneration, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 1, 1, available
		d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}
		return d
	}
	tests := []struct {
		name    string
		objects []runtime.Object
		wantErr string // "" = rolled
	}{
		{"rolled at the first look", []runtime.Object{deploy(1)}, ""},
		{"never available", []runtime.Object{deploy(0)}, "not rolled out: 1 updated and 0 available of 1 replicas"},
		{"missing", nil, `not rolled out: deployments.apps "refproxy" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The first look is immediate, so a short context still sees it;
			// the pending cases end with the context.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			err := WaitRolled(ctx, fake.NewClientset(tt.objects...), ns, name)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("WaitRolled: %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("WaitRolled: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestWaitRolledPollsUntilRolled rolls the Deployment out while WaitRolled
// waits: it must see the change at a later poll (a second apart).
func TestWaitRolledPollsUntilRolled(t *testing.T) {
	d := &appsv1.Deployment{}
	d.Namespace, d.Name, d.Generation = "splitproof", "refproxy", 1
	d.Status.ObservedGeneration, d.Status.UpdatedReplicas = 1, 1
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}
	kube := fake.NewClientset(d)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	updated := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond) // after the first, failing look
		rolled := d.DeepCopy()
		rolled.Status.AvailableReplicas = 1
		_, err := kube.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, rolled, metav1.UpdateOptions{})
		updated <- err
	}()
	if err := WaitRolled(ctx, kube, d.Namespace, d.Name); err != nil {
		t.Errorf("WaitRolled: %v, want nil once the Deployment is rolled out", err)
	}
	if err := <-updated; err != nil {
		t.Fatalf("update status: %v", err)
	}
}
