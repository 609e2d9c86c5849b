package selfgroup

import "testing"

func TestParseKeepRule(t *testing.T) {
	for _, r := range []KeepRule{FirstMember, OwnMask} {
		if got, err := ParseKeepRule(r.String()); err != nil || got != r {
			t.Errorf("ParseKeepRule(%q) = %v, %v", r.String(), got, err)
		}
	}
	if got, err := ParseKeepRule(""); err != nil || got != FirstMember {
		t.Errorf(`ParseKeepRule("") = %v, %v; want the default, first-member`, got, err)
	}
	for _, bad := range []string{"own_mask", "First-Member", "KeepRule(7)"} {
		if _, err := ParseKeepRule(bad); err == nil {
			t.Errorf("ParseKeepRule(%q): no error", bad)
		}
	}
}
