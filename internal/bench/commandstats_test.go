package bench

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// cmdStats is INFO commandstats: command name (lower case, subcommands as
// "config|resetstat") -> calls. Redis counts the commands a Lua script runs
// (redis.call) as well as the EVALSHA itself.
type cmdStats map[string]int64

// notFlowCommands are the commands the benchmark itself sends on the admin
// client (INFO, CONFIG RESETSTAT) and the ones go-redis sends when it dials
// (HELLO, CLIENT SETINFO, ...): none of them is a flow's work.
func notFlowCommand(name string) bool {
	return name == "info" || name == "hello" || name == "ping" || name == "dbsize" ||
		strings.HasPrefix(name, "config|") || strings.HasPrefix(name, "client|")
}

// parseCommandStats reads the reply of INFO commandstats.
func parseCommandStats(info string) (cmdStats, error) {
	stats := cmdStats{}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for _, field := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(field, "=")
			if k != "calls" {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("commandstats line %q: %w", line, err)
			}
			stats[strings.TrimPrefix(name, "cmdstat_")] = n
		}
	}
	return stats, sc.Err()
}

// flowTotal is the number of commands Redis executed for the flows.
func (s cmdStats) flowTotal() int64 {
	var n int64
	for name, calls := range s {
		if !notFlowCommand(name) {
			n += calls
		}
	}
	return n
}

// readCommandStats runs INFO commandstats on the admin client.
func readCommandStats(ctx context.Context, admin *redis.Client) (cmdStats, error) {
	info, err := admin.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, fmt.Errorf("info commandstats: %w", err)
	}
	return parseCommandStats(info)
}

// redisCPU returns the seconds of CPU (user + system) redis-server has used,
// from INFO cpu.
func redisCPU(ctx context.Context, admin *redis.Client) (float64, error) {
	info, err := admin.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, fmt.Errorf("info cpu: %w", err)
	}
	var total float64
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("info cpu %s: %w", k, err)
			}
			total += f
		}
	}
	return total, sc.Err()
}
