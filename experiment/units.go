package experiment

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// byteUnits follows Kubernetes: a unit with an i (Ki, MiB, Gi, GiB) is a
// power of 1024, and one without (K, MB, G, GB) a power of 1000, so "2G"
// and "2GB" are the same size, and "2Gi" and "2GiB" are.
var byteUnits = map[string]float64{
	"b":   1,
	"k":   1e3,
	"kb":  1e3,
	"m":   1e6,
	"mb":  1e6,
	"g":   1e9,
	"gb":  1e9,
	"t":   1e12,
	"tb":  1e12,
	"ki":  1 << 10,
	"kib": 1 << 10,
	"mi":  1 << 20,
	"mib": 1 << 20,
	"gi":  1 << 30,
	"gib": 1 << 30,
	"ti":  1 << 40,
	"tib": 1 << 40,
}

func ParseBytes(s string) (float64, error) {
	text := strings.TrimSpace(s)
	i := strings.IndexFunc(text, func(r rune) bool { return unicode.IsLetter(r) })
	num, unit := text, "b"
	if i >= 0 {
		num, unit = strings.TrimSpace(text[:i]), strings.ToLower(strings.TrimSpace(text[i:]))
	}
	mult, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("unknown size unit %q in %q; use B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000)", text[i:], s)
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
