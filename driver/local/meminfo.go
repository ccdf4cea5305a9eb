package local

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// readMemTotal returns MemTotal from a file in /proc/meminfo's format, in
// MiB. It takes the path so that tests can feed it a file of their own; it
// is not build-constrained to Linux for the same reason.
func readMemTotal(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) == 0 || string(fields[0]) != "MemTotal:" {
			continue
		}
		// The kernel has always written this line as "MemTotal: <n> kB";
		// any other shape means the file is not what we think it is, and a
		// guessed unit would be off by a factor of 1024.
		if len(fields) != 3 || string(fields[2]) != "kB" {
			return 0, fmt.Errorf("%s: unexpected MemTotal line %q", path, sc.Text())
		}
		kib, err := strconv.ParseInt(string(fields[1]), 10, 64)
		if err != nil || kib < 0 {
			return 0, fmt.Errorf("%s: unexpected MemTotal value %q", path, fields[1])
		}
		return kib / 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return 0, fmt.Errorf("%s: no MemTotal line", path)
}
