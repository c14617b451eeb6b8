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
// claiming one makes the suite run its tests, and ci/kind/e2e.sh runs them
// all. Port 8080 and listener isolation rely on one refproxy per Gateway
// (the provisioner). Not implemented, so not claimed: retries,
// static addresses (an empty IPAddress entry is fine), infrastructure
// metadata, client certificates, BackendTLSPolicy, destination port
// matching.
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
		features.SupportHTTPRoute303RedirectStatusCode,
		features.SupportHTTPRoute307RedirectStatusCode,
		features.SupportHTTPRoute308RedirectStatusCode,
		features.SupportHTTPRouteRequestTimeout,
		features.SupportHTTPRouteBackendTimeout,
		features.SupportHTTPRouteNamedRouteRule,
		features.SupportGatewayPort8080,
		features.SupportGatewayHTTPListenerIsolation,
		features.SupportHTTPRouteBackendRequestHeaderModification,
		features.SupportHTTPRouteRequestMirror,
		features.SupportHTTPRouteRequestMultipleMirrors,
		features.SupportHTTPRouteRequestPercentageMirror,
		features.SupportHTTPRouteBackendProtocolH2C,
		features.SupportHTTPRouteBackendProtocolWebSocket,
		features.SupportHTTPRouteCORS,
		features.SupportGatewayAddressEmpty,
		features.SupportGatewayHTTPSListenerDetectMisdirectedRequests,
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
