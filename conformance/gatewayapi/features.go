package gatewayapi

import (
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"

	"github.com/splitproof/splitproof/refproxy/controller"
)

// Profile is the conformance profile refproxy is tested against.
var Profile = suite.GatewayHTTPConformanceProfile

// Features returns the features the suite is told refproxy supports: those
// controller.SupportedFeatures claims (and publishes in the GatewayClass
// status). The profile adds its core features itself.
func Features() []features.FeatureName {
	var out []features.FeatureName
	for _, f := range controller.SupportedFeatures() {
		out = append(out, features.FeatureName(f.Name))
	}
	return out
}
