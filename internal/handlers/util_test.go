package handlers_test

import (
	"errors"
	"slices"
)

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }

func sortStrings(s []string) { slices.Sort(s) }
