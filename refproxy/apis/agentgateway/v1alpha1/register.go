package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// SchemeBuilder registers AgentgatewayBackend and its list with a scheme.
// It is an explicit value, not filled by init, so a caller sees everything it adds.
var SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

// AddToScheme adds this group version's types to scheme.
var AddToScheme = SchemeBuilder.AddToScheme

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion, &AgentgatewayBackend{}, &AgentgatewayBackendList{})
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
