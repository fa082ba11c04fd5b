//go:build !linux

package cli

import "os"

// isTerminal reports whether f is a character device (a terminal, or
// something like /dev/null).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
