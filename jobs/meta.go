package jobs

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// maxJobIDLength keeps job IDs readable in the UI and in CLI tables; Nomad
// itself only rejects spaces and NUL characters.
const maxJobIDLength = 128

// JobID is the Nomad job ID of a trial: "tune-<experiment>-<trialID>".
// It does not depend on the attempt, so every attempt of a trial is a new
// version of one job and `nomad job history` shows them together.
//
// Characters other than letters, digits, '-', '_' and '.' become '-', and
// an ID longer than maxJobIDLength is cut; when either happens a hash of
// the full ID is appended so that distinct inputs keep distinct IDs.
func JobID(experimentName, trialID string) string {
	return SafeName("tune-"+experimentName+"-"+trialID, ".", maxJobIDLength)
}

// SafeName keeps the letters, digits, '-', '_' and the runes of extra in
// name and turns every other rune into '-'. When that changes name, or
// name is longer than maxLen, a hash of name is appended (the name cut to
// make room), so that distinct names keep distinct results.
func SafeName(name, extra string, maxLen int) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', strings.ContainsRune(extra, r):
			return r
		}
		return '-'
	}, name)
	if clean == name && len(name) <= maxLen {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	suffix := fmt.Sprintf("-%08x", h.Sum32())
	if len(clean) > maxLen-len(suffix) {
		clean = clean[:maxLen-len(suffix)]
	}
	return clean + suffix
}
