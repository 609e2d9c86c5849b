package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
)

// refuseOverwrite checks, before any work, that an output file does not
// exist yet, unless --force was given: commands that write one file
// (import, export, average, transfer, quantize --onnx) never replace a
// result silently. flag names the flag that gave path.
func refuseOverwrite(flag, path string, force bool) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if fi.IsDir() {
		return usagef("%s %s is a directory, not a file", flag, path)
	}
	if !force {
		return usagef("%s %s exists: give --force to replace it, or choose another file", flag, path)
	}
	return nil
}

// addForce registers --force for a command that writes one output file.
func addForce(f *pflag.FlagSet, force *bool) {
	f.BoolVar(force, "force", false, "replace the output file if it exists")
}
