package local

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meminfo")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestReadMemTotal(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    int64
		wantErr string
	}{
		{
			name: "MemTotal in kB becomes MiB, rounded down",
			content: "MemTotal:       24684100 kB\n" +
				"MemFree:        24529068 kB\n",
			want: 24105,
		},
		{
			name: "MemTotal is found wherever it is in the file",
			content: "MemFree:         1000000 kB\n" +
				"MemAvailable:    2000000 kB\n" +
				"MemTotal:        4194304 kB\n",
			want: 4096,
		},
		{
			name:    "a file without MemTotal is an error",
			content: "MemFree:         1000000 kB\n",
			wantErr: "no MemTotal line",
		},
		{
			name:    "a MemTotal that is not a number is an error",
			content: "MemTotal:        lots kB\n",
			wantErr: "unexpected MemTotal value",
		},
		{
			name:    "a MemTotal in another unit is an error rather than a guess",
			content: "MemTotal:        4096 MB\n",
			wantErr: "unexpected MemTotal line",
		},
		{
			name:    "MemTotal only as a prefix of another key is not MemTotal",
			content: "MemTotalish:     4194304 kB\n",
			wantErr: "no MemTotal line",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readMemTotal(writeFile(t, tt.content))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReadMemTotalOfAMissingFileIsAnError(t *testing.T) {
	_, err := readMemTotal(filepath.Join(t.TempDir(), "absent"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
