package filemode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/loader"
	"github.com/splitproof/splitproof/refproxy/route"
	"github.com/splitproof/splitproof/refproxy/translate"
)

// Compiler is file mode's CompileFunc: the loader reads the manifests and
// the translator builds the table. Load errors refuse the configuration;
// translation problems (unresolved references, detached routes) are the
// spec's business — they become 500s and statuses — and are logged as
// warnings so that a typo does not go unnoticed.
func Compiler(l loader.Loader, opts translate.Options, logger *slog.Logger) CompileFunc {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	controller := opts.ControllerName
	if controller == "" {
		controller = translate.DefaultControllerName
	}
	return func(ctx context.Context, paths []string) (*route.Table, error) {
		set, err := l.LoadContext(ctx, paths...)
		if err != nil {
			// The error goes to the log, /readyz?verbose and /debug/routes.
			return nil, redactSecretValues(err)
		}
		res, err := translate.Translate(set, opts)
		if err != nil {
			return nil, err
		}
		for _, w := range res.Warnings {
			logger.Warn("configuration warning", "warning", w)
		}
		for i := range res.Routes {
			if !res.Routes[i].Accepted() {
				logger.Warn("HTTPRoute not accepted by any served Gateway", "route", res.Routes[i].Route.String(),
					"why", notAcceptedReasons(&res.Routes[i]))
				continue
			}
			// An accepted route with a backendRef that does not resolve
			// (BackendNotFound, RefNotPermitted, a Service port missing)
			// serves that backend's share as 500s: say so once per load,
			// not once per request.
			for _, c := range unresolvedRefs(&res.Routes[i]) {
				logger.Warn("HTTPRoute has backendRefs that do not resolve; their share of requests is answered 500",
					"route", res.Routes[i].Route.String(), "reason", c.Reason, "why", c.Message)
			}
		}
		for i := range res.Gateways {
			for _, l := range res.Gateways[i].Status.Listeners {
				for _, c := range l.Conditions {
					if c.Status == metav1.ConditionTrue || c.Type != string(gatewayv1.ListenerConditionResolvedRefs) && c.Type != string(gatewayv1.ListenerConditionAccepted) {
						continue
					}
					logger.Warn("Gateway listener has a problem", "gateway", res.Gateways[i].Gateway.String(),
						"listener", string(l.Name), "condition", c.Type, "reason", c.Reason, "why", c.Message)
				}
			}
		}
		if len(res.Table.Ports) == 0 {
			logger.Warn("configuration has no listener port to serve: is there a Gateway of a GatewayClass with this controllerName?",
				"controller_name", controller)
		}
		return res.Table, nil
	}
}

// notAcceptedReasons says why each parent refused a route, from its
// Accepted condition, or that no parentRef names a Gateway served here.
func notAcceptedReasons(st *translate.RouteStatus) string {
	var why []string
	for _, p := range st.Parents {
		for _, c := range p.Conditions {
			if c.Type == string(gatewayv1.RouteConditionAccepted) && c.Status != metav1.ConditionTrue {
				why = append(why, fmt.Sprintf("parentRef %s: %s: %s", p.ParentRef.Name, c.Reason, c.Message))
			}
		}
	}
	if len(why) == 0 {
		return "no parentRef names a Gateway served here"
	}
	return strings.Join(why, "; ")
}

// unresolvedRefs returns the route's failed ResolvedRefs conditions, one
// per distinct message: every parent repeats the same one.
func unresolvedRefs(st *translate.RouteStatus) []metav1.Condition {
	var out []metav1.Condition
	seen := map[string]bool{}
	for _, p := range st.Parents {
		for _, c := range p.Conditions {
			if c.Type == string(gatewayv1.RouteConditionResolvedRefs) && c.Status != metav1.ConditionTrue && !seen[c.Message] {
				seen[c.Message] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// redactSecretValues rewrites the load errors of Secrets' data and
// stringData so that they say what was expected and what kind of value was
// found, never the value: a malformed Secret still holds a secret, and the
// error is logged and served on the admin endpoints. Other errors pass
// unchanged, with their structure (errors.Join) kept.
func redactSecretValues(err error) error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs := joined.Unwrap()
		out := make([]error, len(errs))
		changed := false
		for i, e := range errs {
			out[i] = redactSecretValues(e)
			changed = changed || out[i] != e
		}
		if !changed {
			return err
		}
		return errors.Join(out...)
	}
	le, ok := err.(*loader.Error)
	if !ok || !strings.HasPrefix(le.Object, "Secret ") || !isSecretPayload(le.Field) {
		return err
	}
	redacted := *le
	redacted.Err = errors.New(redactGot(le.Err.Error()))
	return &redacted
}

// isSecretPayload reports whether field is a Secret's data or stringData,
// or inside them.
func isSecretPayload(field string) bool {
	for _, f := range []string{"data", "stringData"} {
		if field == f || strings.HasPrefix(field, f+".") || strings.HasPrefix(field, f+"[") {
			return true
		}
	}
	return false
}

// redactGot keeps "expected …" and the kind of what was found from a
// message such as `expected a string, got integer 123`, dropping the value.
func redactGot(msg string) string {
	expected, got, ok := strings.Cut(msg, ", got ")
	if !ok {
		return "invalid value (not shown: it is a Secret's)"
	}
	kind, rest, _ := strings.Cut(got, " ")
	if kind == "JSON" {
		// "got JSON number" when the loader could not find the YAML node.
		kind, _, _ = strings.Cut(rest, " ")
	}
	switch kind {
	case "an", "a":
		// "an object", "a list" carry no value.
		return expected + ", got " + got
	case "integer", "number", "boolean", "string", "null":
		return expected + ", got " + article(kind) + " (value not shown: it is a Secret's)"
	case "array", "object":
		return expected + ", got " + article(kind)
	}
	return expected + ", got something else (value not shown: it is a Secret's)"
}

func article(kind string) string {
	switch kind {
	case "integer", "array", "object":
		return "an " + kind
	case "null":
		return "null"
	}
	return "a " + kind
}
