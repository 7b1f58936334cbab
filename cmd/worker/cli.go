package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// parseCommand registers the shared options and extra (the command's own
// flags) on a new FlagSet, parses args with flags allowed before, between and
// after positional arguments, fills options from the environment and
// validates. On failure it prints one line (or the help) and returns the exit
// code to use; ok is false then.
func parseCommand(name, usage string, args []string, getenv func(string) string, extra func(*flag.FlagSet)) (cfg Config, positional []string, code int, ok bool) {
	fs := flag.NewFlagSet("worker "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	probe := flag.NewFlagSet("probe", flag.ContinueOnError) // knows which flags take a value
	var defaults Config
	defaults.Flags(probe)
	if extra != nil {
		extra(fs)
		extra(probe)
	}
	flagArgs, positional := splitArgs(probe, args)
	cfg, err := Load(fs, flagArgs, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stdout)
		fmt.Fprintf(os.Stdout, "usage: worker %s\n\nOptions (flag, then [environment variable]):\n", usage)
		fs.PrintDefaults()
		return Config{}, nil, exitOK, false
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "worker %s: %s\n", name, oneLine(err))
		return Config{}, nil, exitUsage, false
	}
	return cfg, positional, exitOK, true
}

// splitArgs separates flags (with their values) from positional arguments so
// that `worker publish user.login --json '{…}'` parses: the flag package
// stops at the first positional argument otherwise.
func splitArgs(fs *flag.FlagSet, args []string) (flags, positional []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(positional, args[i+1:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // Load reports the unknown flag
		}
		if b, isBool := f.Value.(interface{ IsBoolFlag() bool }); isBool && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, positional
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// usageError prints a one-line usage problem and returns exitUsage.
func usageError(cmd, format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "worker %s: %s\n", cmd, fmt.Sprintf(format, args...))
	return exitUsage
}

// failure prints a one-line failure and returns exitError.
func failure(cmd string, err error) int {
	fmt.Fprintf(os.Stderr, "worker %s: %s\n", cmd, oneLine(err))
	return exitError
}
