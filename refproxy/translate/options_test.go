package translate

import (
	"maps"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestOptionsOwnsClass(t *testing.T) {
	class := func(controller string) *gatewayv1.GatewayClass {
		c := &gatewayv1.GatewayClass{}
		c.Name = "gc"
		c.Spec.ControllerName = gatewayv1.GatewayController(controller)
		return c
	}
	tests := []struct {
		name  string
		opts  Options
		class *gatewayv1.GatewayClass
		want  bool
	}{
		{"empty name means the default", Options{}, class(DefaultControllerName), true},
		{"empty name rejects another controller", Options{}, class("example.com/other"), false},
		{"explicit name", Options{ControllerName: "example.com/mine"}, class("example.com/mine"), true},
		{"explicit name rejects the default", Options{ControllerName: "example.com/mine"}, class(DefaultControllerName), false},
		{"names compare exactly", Options{}, class(DefaultControllerName + "/"), false},
		{"no class", Options{}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.opts.OwnsClass(tt.class); got != tt.want {
				t.Errorf("OwnsClass(%v) with ControllerName %q = %v, want %v", tt.class, tt.opts.ControllerName, got, tt.want)
			}
		})
	}
}

func TestOptionsOwnedClasses(t *testing.T) {
	classes := []gatewayv1.GatewayClass{
		{Spec: gatewayv1.GatewayClassSpec{ControllerName: DefaultControllerName}},
		{Spec: gatewayv1.GatewayClassSpec{ControllerName: "example.com/other"}},
		{Spec: gatewayv1.GatewayClassSpec{ControllerName: DefaultControllerName}},
	}
	classes[0].Name, classes[1].Name, classes[2].Name = "ours", "theirs", "also-ours"
	tests := []struct {
		opts Options
		want map[string]bool
	}{
		{Options{}, map[string]bool{"ours": true, "also-ours": true}},
		{Options{ControllerName: "example.com/other"}, map[string]bool{"theirs": true}},
		{Options{ControllerName: "example.com/nobody"}, map[string]bool{}},
	}
	for _, tt := range tests {
		got := tt.opts.OwnedClasses(classes)
		if !maps.Equal(got, tt.want) {
			t.Errorf("OwnedClasses with ControllerName %q = %v, want %v", tt.opts.ControllerName, got, tt.want)
		}
	}
}

func TestOptionsController(t *testing.T) {
	if got := (Options{}).Controller(); got != DefaultControllerName {
		t.Errorf("Options{}.Controller() = %q, want %q", got, DefaultControllerName)
	}
	if got := (Options{ControllerName: "example.com/mine"}).Controller(); got != "example.com/mine" {
		t.Errorf("Controller() with a name set = %q, want example.com/mine", got)
	}
}
