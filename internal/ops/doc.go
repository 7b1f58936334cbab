// Package ops owns the worker's operations HTTP listener: /metrics
// (Prometheus exposition of the registry it is given), /healthz (the process
// is alive) and /readyz (every readiness check passes within a short timeout;
// it names failing checks but never serves their errors, which it logs, and
// reuses one run of the checks for a second).
//
// It never dials a dependency and never registers collectors: the composition
// root hands it the registry, already holding the Go and process collectors,
// and one Check per dependency, built on clients the root owns. It never
// serves anything but these three read-only routes.
package ops
