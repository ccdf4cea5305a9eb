package experiment_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
)

func TestParseBytesReadsSizesInBinaryAndDecimalUnits(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want float64
	}{
		{"a bare number is bytes", "100", 100},
		{"B is bytes", "100B", 100},
		{"MiB is a power of 1024", "512MiB", 512 << 20},
		{"a space may stand before the unit", "2 GiB", 2 << 30},
		{"one-letter units are powers of 1000, as in Kubernetes", "1.5G", 1.5e9},
		{"G and GB are the same size", "2G", 2e9},
		{"Gi is a power of 1024, as in Kubernetes", "2Gi", 2 << 30},
		{"Mi and MiB are the same size", "300Mi", 300 << 20},
		{"GB is a power of 1000", "4GB", 4e9},
		{"units are case-insensitive", "1kb", 1e3},
		{"K and KB are the same", "3K", 3e3},
		{"Ki and KiB are the same", "3Ki", 3 << 10},
		{"TiB is a power of 1024", "1TiB", 1 << 40},
		{"TB is a power of 1000", "2TB", 2e12},
		{"spaces around are ignored", "  3 MiB  ", 3 << 20},
		{"a fraction of a unit is allowed", "0.5MiB", 1 << 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := experiment.ParseBytes(tt.in)
			require.NoError(t, err)
			assert.InDelta(t, tt.want, got, 1e-6)
		})
	}
}

func TestParseBytesRefusesWhatIsNotASize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"an unknown unit names the unit and the ones known", "12 parsecs", `unknown size unit "parsecs" in "12 parsecs"; use B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000)`},
		{"an empty text", "", `"" is not a size such as "512MiB" or "2GiB"`},
		{"a unit without a number", "GiB", `"GiB" is not a size`},
		{"a number with two points", "1.2.3MiB", `"1.2.3MiB" is not a size`},
		{"a unit with a stray character", "8Mb!", `unknown size unit "Mb!"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := experiment.ParseBytes(tt.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestMiBCeilRoundsUpToWholeMiB(t *testing.T) {
	tests := []struct {
		name  string
		bytes float64
		want  int
	}{
		{"nothing is nothing", 0, 0},
		{"one MiB is one", 1 << 20, 1},
		{"a byte more is two", 1<<20 + 1, 2},
		{"one GB is 954 MiB", 1e9, 954},
		{"two GiB is 2048 MiB", 2 << 30, 2048},
		{"float noise below a whole MiB does not add one", 3*(1<<20) + 1e-7, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, experiment.MiBCeil(tt.bytes))
		})
	}
}

func TestParseDurationReadsGoDurationsAndDays(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"seconds", "90s", 90 * time.Second},
		{"minutes", "10m", 10 * time.Minute},
		{"hours and minutes", "1h30m", 90 * time.Minute},
		{"milliseconds", "500ms", 500 * time.Millisecond},
		{"days", "2d", 48 * time.Hour},
		{"a fraction of a day", "1.5d", 36 * time.Hour},
		{"spaces around are ignored", " 5m ", 5 * time.Minute},
		{"zero", "0s", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := experiment.ParseDuration(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseDurationRefusesWhatIsNotADuration(t *testing.T) {
	for _, in := range []string{"10 minutes", "", "d", "5", "1d2h", "soon", "1x"} {
		t.Run(in, func(t *testing.T) {
			_, err := experiment.ParseDuration(in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), `is not a duration such as "90s", "10m" or "1h30m"`)
		})
	}
}

func TestFormatNumberPrintsShortNumbers(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{"a whole number has no point", 2, "2"},
		{"float noise is dropped", 0.1 * 3, "0.3"},
		{"a negative fraction", -1.5, "-1.5"},
		{"a small number", 1e-4, "0.0001"},
		{"a huge number keeps its exponent exact", 1e30, "1e+30"},
		{"zero", 0, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, experiment.FormatNumber(tt.in))
		})
	}
}

func TestCountAgreesInNumber(t *testing.T) {
	tests := []struct {
		name string
		n    int
		noun string
		want string
	}{
		{"one is singular", 1, "trial", "1 trial"},
		{"none is plural", 0, "trial", "0 trials"},
		{"many are plural", 12, "GPU", "12 GPUs"},
		{"a noun of two words takes the s at the end", 1, "grid point", "1 grid point"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, experiment.Count(tt.n, tt.noun))
		})
	}
}
