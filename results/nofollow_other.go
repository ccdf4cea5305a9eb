//go:build !unix

package results

// noFollow is 0 where open has no such flag; Lstat checks stand in for it.
const noFollow = 0
