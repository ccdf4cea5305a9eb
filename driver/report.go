package driver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// ParseReport reads one line of a trial's output. A line that does not
// start with "@tune " is ordinary output (ok false, err nil). A line that
// does must hold exactly one JSON object; when it does not, err says why
// and the line is to be kept as ordinary output.
func ParseReport(line string) (metrics map[string]any, ok bool, err error) {
	line = strings.TrimRight(line, "\r")
	if !strings.HasPrefix(line, ReportPrefix) {
		return nil, false, nil
	}
	body := strings.TrimSpace(line[len(ReportPrefix):])
	if !strings.HasPrefix(body, "{") {
		return nil, false, fmt.Errorf("a @tune line must hold one JSON object, such as @tune {\"loss\": 0.42}")
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	if err := dec.Decode(&metrics); err != nil {
		return nil, false, fmt.Errorf("the @tune line is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, false, fmt.Errorf("a @tune line must hold exactly one JSON object; there is more after it")
	}
	if metrics == nil {
		metrics = map[string]any{}
	}
	return metrics, true, nil
}
