package filemode

import (
	"context"
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
			return nil, err
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
