package nomadsim

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

// idSource makes Nomad-shaped UUIDs. It is seeded, so a simulation run
// with the same seed and the same requests names its objects the same way,
// which keeps failures reproducible.
type idSource struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newIDSource(seed uint64) *idSource {
	return &idSource{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// uuid returns a random version-4 UUID in Nomad's textual form.
func (s *idSource) uuid() string {
	s.mu.Lock()
	hi, lo := s.rng.Uint64(), s.rng.Uint64()
	s.mu.Unlock()
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(hi >> (8 * i))
		b[8+i] = byte(lo >> (8 * i))
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// float returns a number in [0, 1) from the seeded source.
func (s *idSource) float() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64()
}

// intn returns a number in [0, n).
func (s *idSource) intn(n int) int {
	if n <= 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.IntN(n)
}
