// Package logging builds the worker's zap logger: JSON lines for production,
// coloured console lines for `make run`. cmd/worker and the benchmarks build
// it here, so that what `make bench` measures is what `worker run` writes.
package logging

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New returns the logger for format ("json" or "console") at level (a zap
// level name), writing to out (nil: stderr).
func New(format, level string, out zapcore.WriteSyncer) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, err
	}
	var zc zap.Config
	if format == "console" {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
	} else {
		zc = zap.NewProductionConfig()
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.DisableStacktrace = true
	if out == nil {
		return zc.Build()
	}
	return zc.Build(zap.WrapCore(func(zapcore.Core) zapcore.Core {
		enc := zapcore.NewJSONEncoder(zc.EncoderConfig)
		if format == "console" {
			enc = zapcore.NewConsoleEncoder(zc.EncoderConfig)
		}
		core := zapcore.NewCore(enc, out, zc.Level)
		if zc.Sampling != nil {
			core = zapcore.NewSamplerWithOptions(core, 1e9, zc.Sampling.Initial, zc.Sampling.Thereafter)
		}
		return core
	}))
}
