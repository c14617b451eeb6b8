package objects

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSortByNamespaceThenNameStable(t *testing.T) {
	svc := func(ns, name, marker string) corev1.Service {
		return corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"m": marker}}}
	}
	s := &Set{Services: []corev1.Service{
		svc("b", "x", "1"), svc("a", "z", "2"), svc("b", "a", "3"), svc("a", "z", "4"), svc("", "q", "5"),
	}}
	s.Sort()
	var got []string
	for _, o := range s.Services {
		got = append(got, o.Namespace+"/"+o.Name+"#"+o.Labels["m"])
	}
	want := []string{"/q#5", "a/z#2", "a/z#4", "b/a#3", "b/x#1"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
