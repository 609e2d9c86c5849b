package kernel

import "time"

// fastestOf times two routes of the same work in alternation, 8 rounds,
// and keeps in t each one's fastest round after the first (a warm-up):
// other load on the machine can only slow a round, so the fastest is the
// estimate least disturbed by it, and alternating gives both routes the
// same clock and cache conditions.
func fastestOf(runs [2]func(), t *[2]time.Duration) {
	for round := range 8 {
		for i, run := range runs {
			t0 := time.Now()
			run()
			d := time.Since(t0)
			if round > 0 && (t[i] == 0 || d < t[i]) {
				t[i] = d
			}
		}
	}
}
