//go:build noasm || !amd64

package kernel

// Without assembly the AMX route runs only when forced (SetInt8AMX), on
// its pure-Go steps.

func i8AMXProbe() (bool, string) { return false, "built without assembly (noasm or not amd64)" }

// i8AMXFor returns the AMX route's steps: their pure-Go form.
func i8AMXFor() i8AMXImpl { return i8AMXGo }
