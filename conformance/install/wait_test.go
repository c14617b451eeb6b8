package install

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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
