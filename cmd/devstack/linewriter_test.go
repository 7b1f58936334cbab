package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLineWriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"one line", []string{"a\n"}, "w | a\n"},
		{"split line", []string{"he", "llo\nwor", "ld\n"}, "w | hello\nw | world\n"},
		{"many lines in one write", []string{"a\nb\n\nc\n"}, "w | a\nw | b\nw | \nw | c\n"},
		{"partial last line flushed", []string{"a\nb"}, "w | a\nw | b\n"},
		{"nothing", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w := newLineWriter(&buf, "w | ")
			for _, s := range tt.writes {
				n, err := w.Write([]byte(s))
				assert.NoError(t, err)
				assert.Equal(t, len(s), n)
			}
			w.Flush()
			assert.Equal(t, tt.want, buf.String())
		})
	}
}
