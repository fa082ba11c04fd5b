// Package samsatest is the test harness: it starts real brokers (in process
// with Start, or as a separate samsa process with StartProcess for crash
// tests) on random loopback ports with temporary data directories, makes
// franz-go clients for them, and polls with Eventually.
//
// Imported only by _test.go files. It may import anything.
package samsatest
