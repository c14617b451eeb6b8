package filemode

import (
	"log/slog"

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
	return func(paths []string) (*route.Table, error) {
		set, err := l.Load(paths...)
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
				logger.Warn("HTTPRoute not accepted by any served Gateway", "route", res.Routes[i].Route.String())
			}
		}
		if len(res.Table.Ports) == 0 {
			logger.Warn("configuration has no listener port to serve: is there a Gateway of a GatewayClass with this controllerName?",
				"controller_name", controller)
		}
		return res.Table, nil
	}
}
