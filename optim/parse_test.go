package optim

import (
	"strings"
	"testing"
)

// TestParseRefusesBadSchedules checks the schedule specs issue 19 found
// accepted: a NaN or infinite gamma, and milestones out of order.
func TestParseRefusesBadSchedules(t *testing.T) {
	for spec, want := range map[string]string{
		"step:1:NaN":       "gamma",
		"step:1:nan":       "gamma",
		"step:1:Inf":       "gamma",
		"multistep:5,2":    "increase",
		"multistep:3,3":    "increase",
		"multistep:1,2:-1": "gamma",
	} {
		if _, err := Parse(spec, 0.1, 10); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want one about %s", spec, err, want)
		}
	}
	if _, err := Parse("multistep:2,5:0.5", 0.1, 10); err != nil {
		t.Errorf("increasing milestones refused: %v", err)
	}
}
