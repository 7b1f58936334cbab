package main

import (
	"strconv"
	"time"
)

// stringValue, durationValue, intValue and boolValue are flag.Values over a
// Config field; their Set errors keep the parser's message.
type (
	stringValue   string
	durationValue time.Duration
	intValue      int
	boolValue     bool
)

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

func (v *stringValue) String() string {
	if v == nil {
		return ""
	}
	return string(*v)
}

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*v = durationValue(d)
	return nil
}

func (v *durationValue) String() string {
	if v == nil {
		return ""
	}
	return time.Duration(*v).String()
}

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return err
	}
	*v = intValue(n)
	return nil
}

func (v *intValue) String() string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(int(*v))
}

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*v = boolValue(b)
	return nil
}

func (v *boolValue) String() string {
	if v == nil {
		return ""
	}
	return strconv.FormatBool(bool(*v))
}

func (v *boolValue) IsBoolFlag() bool { return true }
