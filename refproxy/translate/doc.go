// Package translate owns the one translation from Gateway API objects to a
// routing table. Translate is a pure function of an objects.Set and Options:
// no files, no sockets, no clock (the caller passes the time stamped on
// conditions). File mode and controller mode both call it, so the proxy
// behaves the same whichever way its configuration arrives, and the statuses
// it computes (Gateway listeners and attached routes, HTTPRoute Accepted and
// ResolvedRefs per parent) are what controller mode writes back.
//
// Which Gateways are served: those whose GatewayClass Options.OwnsClass
// accepts (controllerName Options.ControllerName, DefaultControllerName when
// empty), the one rule the controller and the provisioner also apply to the
// classes they list. When the set holds no GatewayClass at all (the usual
// file-mode case) every Gateway is served.
package translate
