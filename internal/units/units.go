// Package units formats counts as the paper quotes them.
package units

import "fmt"

// Human writes n with two decimals and a K, M or G suffix (powers of
// 1000), as the paper quotes counts: 25.55M, 4.09G; below 1000, n itself.
func Human(n int64) string {
	f := float64(n)
	switch {
	case f >= 1e9 || f <= -1e9:
		return fmt.Sprintf("%.2fG", f/1e9)
	case f >= 1e6 || f <= -1e6:
		return fmt.Sprintf("%.2fM", f/1e6)
	case f >= 1e3 || f <= -1e3:
		return fmt.Sprintf("%.2fK", f/1e3)
	}
	return fmt.Sprint(n)
}
