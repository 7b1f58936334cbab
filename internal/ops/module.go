package ops

import "go.uber.org/fx"

// Module provides *Server from a Params the composition root supplies. The
// root registers Start and Stop as lifecycle hooks itself.
var Module = fx.Module("ops", fx.Provide(New))
