//go:build unix

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalSize asks the terminal for its size, so the live progress table
// fits it; COLUMNS is rarely exported by shells. Zero means unknown.
func terminalSize(f *os.File) (width, height int) {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0
	}
	return int(ws.Col), int(ws.Row)
}
