package sgcnn

import "fmt"

// ConfigError is a setting of a PruneConfig (or of the run a checkpoint
// stored) that cannot work, found before the work it would spoil. A
// command line maps Field to its flag.
type ConfigError struct {
	// Field names the setting: a PruneConfig field ("ValSplit",
	// "Dataset", ...), or "" when the error names its own.
	Field string
	// Value is the setting's value, shown after Field (nil: not shown).
	Value any
	// Err says what is wrong.
	Err error
}

func (e *ConfigError) Error() string {
	switch {
	case e.Field == "":
		return e.Err.Error()
	case e.Value == nil:
		return fmt.Sprintf("%s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("%s %v: %v", e.Field, e.Value, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// configErr returns a ConfigError of a field.
func configErr(field string, value any, format string, args ...any) error {
	return &ConfigError{Field: field, Value: value, Err: fmt.Errorf(format, args...)}
}

// badConfig marks err as a ConfigError that names its own setting.
func badConfig(err error) error {
	if err == nil {
		return nil
	}
	return &ConfigError{Err: err}
}
