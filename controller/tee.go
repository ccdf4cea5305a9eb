package controller

// Tee is a Reporter that passes every call to each of its reporters in
// turn (a nil one is skipped), so that a terminal display and a mirror of
// the progress elsewhere both follow one experiment.
type Tee []Reporter

var _ Reporter = Tee(nil)

// Changed passes c and s on.
func (t Tee) Changed(c Change, s *Snapshot) {
	for _, r := range t {
		if r != nil {
			r.Changed(c, s)
		}
	}
}

// Tick passes s on.
func (t Tee) Tick(s *Snapshot) {
	for _, r := range t {
		if r != nil {
			r.Tick(s)
		}
	}
}

// Done passes s on.
func (t Tee) Done(s *Snapshot) {
	for _, r := range t {
		if r != nil {
			r.Done(s)
		}
	}
}
