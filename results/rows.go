package results

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nomad-tune/tune/pyjson"
)

// maxRowBytes bounds one line of result.json read back: a report is
// refused well before this size when it is made.
const maxRowBytes = 16 << 20

// Rows reads the reports of a trial's last attempt back from its
// result.json, in the order they were made: the results folder is the
// only record of them, and a resumed run rebuilds what depends on them
// (a scheduler's rungs) from it. A trial with no result.json has no rows.
// A line that is not a JSON object is an error naming the file and line;
// a partial last line was dropped when the store was opened.
func (s *Store) Rows(trialID string) ([]map[string]any, error) {
	d, err := s.exp.openExisting(trialID)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer d.close()
	f, err := d.open(ResultFile, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	path := filepath.Join(s.dir, trialID, ResultFile)
	var rows []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxRowBytes)
	for line := 1; sc.Scan(); line++ {
		var row pyjson.Object
		if err := pyjson.Unmarshal(sc.Bytes(), &row); err != nil || row == nil {
			return nil, fmt.Errorf("%s:%d: not a report written by tune", path, line)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return rows, nil
}
