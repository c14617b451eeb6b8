package controller

import (
	"slices"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// SupportedFeatures are the Gateway API features refproxy implements, as
// named in sigs.k8s.io/gateway-api/pkg/features; they are published in the
// GatewayClass status, where the conformance suite reads them to choose its
// tests. Only features the translator and proxy really implement are listed:
// claiming one makes the suite run its tests. HTTPS listeners are not
// claimed because the listener layer serves plain HTTP only; request
// mirroring, CORS, retries, backend-level filters and WebSockets are not
// implemented.
func SupportedFeatures() []gatewayv1.SupportedFeature {
	names := []features.FeatureName{
		features.SupportGateway,
		features.SupportHTTPRoute,
		features.SupportReferenceGrant,
		features.SupportHTTPRouteMethodMatching,
		features.SupportHTTPRouteQueryParamMatching,
		features.SupportHTTPRouteResponseHeaderModification,
		features.SupportHTTPRouteHostRewrite,
		features.SupportHTTPRoutePathRewrite,
		features.SupportHTTPRoutePathRedirect,
		features.SupportHTTPRoutePortRedirect,
		features.SupportHTTPRouteSchemeRedirect,
		features.SupportHTTPRouteParentRefPort,
	}
	// The API server keeps the list sorted by name (a listType=map keyed
	// by name); sorting here keeps "unchanged" comparisons exact.
	slices.Sort(names)
	out := make([]gatewayv1.SupportedFeature, len(names))
	for i, n := range names {
		out[i] = gatewayv1.SupportedFeature{Name: gatewayv1.FeatureName(n)}
	}
	return out
}
