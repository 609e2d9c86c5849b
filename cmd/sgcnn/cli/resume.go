package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
)

// Flags that may differ on --resume from the value the run stored: they do
// not change what the run computes, or they extend it. Every other flag a
// run stores must, given with --resume, equal the stored value.
//
//   - --threads: the run continues on another thread count (results may
//     then differ from an uninterrupted run in the last bits);
//   - --measure (prune): whether to time the result at the end;
//   - --data: where the same data set's files are;
//   - --nproc, --device, --nnodes, --rdzv-endpoint: where a --trainer torch
//     run continues (like --threads, results may differ in the last bits);
//   - --epochs (train): a larger value extends the run (the schedule is
//     then laid over the new length);
//   - a schedule (--schedule, --global-schedule) whose stored value no
//     longer parses may be replaced by a corrected one.
var resumeMayChange = []string{"threads", "measure", "data", "nproc", "device", "nnodes", "rdzv-endpoint"}

// resumeRule decides whether flag name may change from stored to given on
// --resume; nil allows only resumeMayChange.
type resumeRule func(name, given, stored string) bool

// applyResumeFlags checks the flags given with --resume against the run's
// stored values, which the caller has just put into the variables behind
// fs (so that fs now shows them): given holds the values the command line
// set, before. A flag that may change is set back to its given value, with
// a note on log; any other difference is an error naming both values.
func applyResumeFlags(fs *pflag.FlagSet, given map[string]string, rule resumeRule, log io.Writer) error {
	names := make([]string, 0, len(given))
	for n := range given {
		names = append(names, n)
	}
	sort.Strings(names)
	var diffs []string
	for _, n := range names {
		f := fs.Lookup(n)
		if f == nil {
			continue
		}
		stored := f.Value.String()
		if stored == given[n] {
			continue
		}
		if slices.Contains(resumeMayChange, n) || (rule != nil && rule(n, given[n], stored)) {
			if err := resetFlag(f, given[n]); err != nil {
				return usagef("--%s %s: %v", n, given[n], err)
			}
			fmt.Fprintf(log, "--%s %s replaces the run's stored %s\n", n, given[n], stored)
			continue
		}
		diffs = append(diffs, fmt.Sprintf("--%s %s differs from the run's stored %s", n, given[n], stored))
	}
	if len(diffs) > 0 {
		return usagef("--resume continues a run with the settings it stored: %s (leave the flag out to keep the stored value; only %s, a larger --epochs and a stored schedule that no longer parses may change; for other settings start a new run with another --out)",
			strings.Join(diffs, "; "), quoteList(resumeMayChange))
	}
	return nil
}

// resetFlag sets a scalar flag's value back to s.
func resetFlag(f *pflag.Flag, s string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return sv.Replace(strings.Split(strings.Trim(s, "[]"), ","))
	}
	return f.Value.Set(s)
}

// longerEpochs allows --epochs to grow on --resume.
func longerEpochs(name, given, stored string) bool {
	if name != "epochs" {
		return false
	}
	g, err1 := strconv.Atoi(given)
	s, err2 := strconv.Atoi(stored)
	return err1 == nil && err2 == nil && g > s
}

// resumeThreads applies the run's stored thread count unless --threads was
// given (then it is noted if it differs).
func resumeThreads(g *globals, fs *pflag.FlagSet, stored int) {
	if f := fs.Lookup("threads"); f != nil && f.Changed {
		if g.threads != stored {
			fmt.Fprintf(g.stderr, "--threads %d replaces the run's stored %d (results may differ in the last bits from an uninterrupted run)\n", g.threads, stored)
		}
		return
	}
	g.threads = stored
	parallel.SetThreads(stored)
}

// checkFreshOut refuses to start a new training run over an existing file
// unless force is set: it names what the file holds.
func checkFreshOut(path string, force bool, log io.Writer) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	if fi.IsDir() {
		return usagef("--out %s is a folder: name a file", path)
	}
	what := describeModelFile(path)
	if force {
		fmt.Fprintf(log, "--force: %s (%s) will be replaced after the first epoch\n", path, what)
		return nil
	}
	hint := "give --force to replace it, or choose another --out"
	if strings.Contains(what, "unfinished") {
		hint = "continue it with --resume, give --force to replace it, or choose another --out"
	}
	return usagef("--out %s exists and holds %s: %s", path, what, hint)
}

// describeModelFile says what an existing file holds, for messages.
func describeModelFile(path string) string {
	if !sgcnn.IsNativeFile(path) {
		return "no sgcnn model (not a safetensors file)"
	}
	f, err := models.LoadFile(path, "")
	if err != nil {
		return "no readable sgcnn model"
	}
	var st trainState
	if json.Unmarshal(f.Info.Training, &st) == nil && st.Config.Model != "" {
		if st.Done >= st.Config.Epochs {
			return fmt.Sprintf("a finished training run of %s (%d of %d epochs)", f.Model.Arch, st.Done, st.Config.Epochs)
		}
		return fmt.Sprintf("an unfinished training run of %s (epoch %d of %d)", f.Model.Arch, st.Done, st.Config.Epochs)
	}
	return "a " + f.Model.Arch + " model that is not a training run"
}

// checkFreshFolder refuses to start a new pruning run in a folder that
// holds files, unless force is set; with force, the files a run reuses
// (pretrained.safetensors) are removed so that nothing of the old run
// carries over.
func checkFreshFolder(dir string, force bool, log io.Writer) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return usagef("--out %s is a file: a pruning run writes a folder", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("--out %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		// The lock, temp files and the per-CPU cost cache (prune --budget
		// measures it afresh when it is another machine's) are no results.
		if n := e.Name(); n != "lock" && !strings.Contains(n, ".tmp") && n != "costs.json" && n != "costs.md" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	what := fmt.Sprintf("%d file(s) (%s)", len(names), strings.Join(names[:min(len(names), 4)], ", "))
	hint := "give --force to replace it, or choose another --out"
	if st, err := readPruneState(filepath.Join(dir, "checkpoint.safetensors")); err == nil {
		if st.Phase == "done" {
			what = "a finished pruning run"
		} else {
			what = fmt.Sprintf("an unfinished pruning run (%d steps done, phase %s)", st.Step, st.Phase)
			hint = "continue it with --resume, give --force to replace it, or choose another --out"
		}
	}
	if !force {
		return usagef("--out %s holds %s: %s", dir, what, hint)
	}
	fmt.Fprintf(log, "--force: starting a new run in %s, which holds %s\n", dir, what)
	if err := os.Remove(filepath.Join(dir, "pretrained.safetensors")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// outGuard holds an output's lock and remembers the folders a run created,
// so that a run that ends before its first checkpoint leaves nothing.
type outGuard struct {
	lock    *runLock
	created string   // the top folder this run created, if any
	files   []string // files this run wrote that are not checkpoints
}

// guardOutput creates dir (remembering the first folder it had to make)
// and takes the lock at lockFile.
func guardOutput(dir, lockFile string, log io.Writer, bases ...string) (*outGuard, error) {
	og := &outGuard{}
	if err := og.mkdir(dir); err != nil {
		return nil, err
	}
	l, err := acquireLock(lockFile, log, bases...)
	if err != nil {
		og.close(false)
		return nil, err
	}
	og.lock = l
	return og, nil
}

// mkdir creates dir and its parents, remembering the top one it made.
func (og *outGuard) mkdir(dir string) error {
	top := ""
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		top = d
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if og.created == "" {
		og.created = top
	}
	return nil
}

// close releases the lock; when kept is false (no checkpoint was written),
// it removes the files and folders the run made.
func (og *outGuard) close(kept bool) {
	if og == nil {
		return
	}
	og.lock.release()
	if kept {
		return
	}
	for _, f := range og.files {
		os.Remove(f)
	}
	if og.created != "" {
		os.RemoveAll(og.created)
	}
}

// lastOnDisk says which epoch the training checkpoint at path holds, read
// from the file.
func lastOnDisk(path string) string {
	if _, err := os.Stat(path); err != nil {
		return "no checkpoint was written"
	}
	f, err := models.LoadFile(path, "")
	if err != nil {
		return fmt.Sprintf("the file %s could not be read back: %v", path, err)
	}
	var st trainState
	if json.Unmarshal(f.Info.Training, &st) != nil || st.Config.Model == "" {
		return fmt.Sprintf("%s holds no training run", path)
	}
	return fmt.Sprintf("the last checkpoint on disk, %s, holds epoch %d of %d", path, st.Done, st.Config.Epochs)
}
