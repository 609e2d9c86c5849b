package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes r to w as indented JSON, ending in a newline. Layer
// labels and masks are not written (they are kept in memory only, for
// PlotGroupMap). Callers that write a file pass atomicfile.Write
// a closure around WriteJSON, so that a crash never leaves half a record.
func WriteJSON(w io.Writer, r *Run) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		// NaN and ±Inf are the usual cause: Step says -1, not NaN, for
		// an accuracy that was not measured.
		return fmt.Errorf("report: encoding run: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// ReadJSON reads a run written by WriteJSON. Unknown fields are ignored,
// so that older readers accept newer records; data after the run is an
// error. Config values come back as JSON types (numbers as float64).
func ReadJSON(rd io.Reader) (*Run, error) {
	dec := json.NewDecoder(rd)
	var r Run
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("report: decoding run: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("report: decoding run: data after the run at offset %d", dec.InputOffset())
	}
	return &r, nil
}

// ConfigOf returns v (a config struct, typically) as the map that
// Run.Config holds, through its JSON encoding: keys are v's JSON names and
// values JSON types, so that a run reads back from JSON as it was written.
func ConfigOf(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("report: encoding config: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("report: config is not a JSON object: %w", err)
	}
	return m, nil
}
