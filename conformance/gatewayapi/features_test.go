package gatewayapi

import "testing"

// TestFeaturesInProfile: a claimed feature outside GATEWAY-HTTP's core and
// extended sets would never be tested by this run, and its claim would go
// unverified; the profile's core features must all be claimed, since the
// suite runs their tests whatever the claim.
func TestFeaturesInProfile(t *testing.T) {
	claimed := map[string]bool{}
	for _, f := range Features() {
		claimed[string(f)] = true
		if !Profile.CoreFeatures.Has(f) && !Profile.ExtendedFeatures.Has(f) {
			t.Errorf("feature %s is claimed but not part of profile %s", f, Profile.Name)
		}
	}
	for f := range Profile.CoreFeatures {
		if !claimed[string(f)] {
			t.Errorf("core feature %s of profile %s is not claimed by controller.SupportedFeatures", f, Profile.Name)
		}
	}
}
