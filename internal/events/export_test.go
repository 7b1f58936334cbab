package events

// WithJitterSource returns p drawing its jitter from r (tests fix it).
func WithJitterSource(p RetryPolicy, r func() float64) RetryPolicy {
	p.rand = r
	return p
}
