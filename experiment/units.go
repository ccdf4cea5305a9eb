package experiment

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

var byteUnits = map[string]float64{
	"b":   1,
	"kb":  1e3,
	"mb":  1e6,
	"gb":  1e9,
	"tb":  1e12,
	"k":   1 << 10,
	"m":   1 << 20,
	"g":   1 << 30,
	"t":   1 << 40,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
	"tib": 1 << 40,
}

// ParseBytes reads a size such as "512MiB", "2 GiB", "1.5G" or "4GB".
// KiB/MiB/GiB/TiB and the one-letter K/M/G/T are powers of 1024; KB/MB/GB/TB
// are powers of 1000, as in SI. A bare number is bytes.
func ParseBytes(s string) (float64, error) {
	text := strings.TrimSpace(s)
	i := strings.IndexFunc(text, func(r rune) bool { return unicode.IsLetter(r) })
	num, unit := text, "b"
	if i >= 0 {
		num, unit = strings.TrimSpace(text[:i]), strings.ToLower(strings.TrimSpace(text[i:]))
	}
	mult, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("unknown size unit %q in %q; use B, KiB, MiB, GiB, TiB (or KB, MB, GB, TB)", text[i:], s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a size such as \"512MiB\" or \"2GiB\"", s)
	}
	return f * mult, nil
}

// MiBCeil converts bytes to whole MiB, rounding up.
func MiBCeil(bytes float64) int {
	return int(math.Ceil(bytes/(1<<20) - 1e-9))
}

// ParseDuration reads a duration such as "90s", "10m", "1h30m" or "2d".
func ParseDuration(s string) (time.Duration, error) {
	text := strings.TrimSpace(s)
	if strings.HasSuffix(text, "d") {
		days, err := strconv.ParseFloat(strings.TrimSuffix(text, "d"), 64)
		if err == nil {
			return time.Duration(days * 24 * float64(time.Hour)), nil
		}
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as \"90s\", \"10m\" or \"1h30m\"", s)
	}
	return d, nil
}
