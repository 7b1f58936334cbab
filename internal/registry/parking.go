package registry

import (
	"context"
	"errors"
	"fmt"
)

// MaxParked is how many events one dependency's parking holds at most; past
// it, Park refuses and the consume loop holds the event ack-pending instead.
const MaxParked = 100_000

// ErrParkingFull is Park's refusal past MaxParked.
var ErrParkingFull = errors.New("parking full")

// Park appends entry to the parking of dependency (one list; RPUSH, then
// LREM of the same entry if that went past MaxParked).
func (r *Registry) Park(ctx context.Context, dependency string, entry []byte) error {
	key := r.keys.Parked(dependency)
	n, err := r.rdb.RPush(ctx, key, entry).Result()
	if err != nil {
		return fmt.Errorf("park: %w", err)
	}
	if n > MaxParked {
		if err := r.rdb.LRem(ctx, key, -1, entry).Err(); err != nil {
			return fmt.Errorf("park: %w (and taking it back: %w)", ErrParkingFull, err)
		}
		return fmt.Errorf("park: %w (%d events)", ErrParkingFull, MaxParked)
	}
	return nil
}

// Parked returns up to n entries of dependency's parking, oldest first.
func (r *Registry) Parked(ctx context.Context, dependency string, n int) ([][]byte, error) {
	vals, err := r.rdb.LRange(ctx, r.keys.Parked(dependency), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("parked: %w", err)
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = []byte(v)
	}
	return out, nil
}

// Unpark removes one occurrence of entry from dependency's parking.
func (r *Registry) Unpark(ctx context.Context, dependency string, entry []byte) error {
	if err := r.rdb.LRem(ctx, r.keys.Parked(dependency), 1, entry).Err(); err != nil {
		return fmt.Errorf("unpark: %w", err)
	}
	return nil
}
