// Package test holds the end-to-end tests of the tune binary: each test
// builds the real binary once and runs it as a user would, asserting its
// exit status and output.
package test
