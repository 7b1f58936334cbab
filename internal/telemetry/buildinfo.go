package telemetry

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// RegisterBuildInfo registers mcp_worker_build_info{version,revision,go_version}
// (always 1; the module version, "(devel)" for a local build, and the VCS
// revision the binary was built from, "unknown" without one) and the Go
// collector's go_build_info.
func RegisterBuildInfo(reg prometheus.Registerer) {
	version, revision := "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "mcp_worker_build_info",
		Help:        "The worker's build: module version, VCS revision, Go version (always 1).",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "go_version": runtime.Version()},
	})
	g.Set(1)
	reg.MustRegister(g, collectors.NewBuildInfoCollector())
}
