package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// SupervisorCommand is the hidden first argument with which tune runs
// itself as a trial's supervisor (see supervise_linux.go).
const SupervisorCommand = "__tune-trial-supervisor"

// supervisorReady says this binary answers SupervisorCommand: its main
// (or a test binary's TestMain) called MaybeSupervise. A binary that does
// not would take the arguments for its own, so tasks then run directly.
var supervisorReady bool

// supervision is tune's end of a supervised task's control pipe. Closing
// it asks the supervisor to kill the task's whole tree at once; the kernel
// closes it when tune dies, however it dies, which asks the same. The pipe
// is the task's alone, so nothing the task does can ask it.
type supervision struct {
	once sync.Once
	// w is tune's end; r the supervisor's, which tune closes once the
	// supervisor has its own copy.
	w, r *os.File
}

func newSupervision() (*supervision, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	return &supervision{w: w, r: r}, nil
}

// started drops tune's copy of the supervisor's end, after Start.
func (s *supervision) started() {
	if s != nil {
		_ = s.r.Close()
	}
}

// end asks the supervisor to kill the task's tree; it does nothing for a
// task without one, or the second time.
func (s *supervision) end() {
	if s != nil {
		s.once.Do(func() { _ = s.w.Close() })
	}
}

// kill asks the supervisor to kill the task's tree. The task may have
// stopped its process group (kill -STOP 0), the supervisor with it, which
// would then never read the request: the group is continued first, and
// whatever the stopped processes would do on waking, the supervisor kills
// them.
func (s *supervision) kill(cmd *exec.Cmd) {
	_ = continueGroup(cmd)
	s.end()
}

// lookCommand finds the program a task runs, as exec.Command would: a bare
// name on tune's PATH, a path relative to the experiment's folder. A
// command that cannot be executed is a *driver.CannotRunError's cause
// before anything starts, whether or not a supervisor runs it.
func lookCommand(command, dir string) (string, error) {
	if !strings.ContainsRune(command, filepath.Separator) && !strings.ContainsRune(command, '/') {
		return exec.LookPath(command)
	}
	path := command
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return "", err
	case fi.IsDir():
		return "", &fs.PathError{Op: "exec", Path: command, Err: syscall.EISDIR}
	case fi.Mode().Perm()&0o111 == 0:
		return "", &fs.PathError{Op: "exec", Path: command, Err: fs.ErrPermission}
	}
	return command, nil
}

// isExecFailure reports whether a start failed because the command could
// not be executed (missing, not executable, not a program), which every
// later attempt would repeat, rather than for want of a resource.
func isExecFailure(err error) bool {
	return errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) ||
		errors.Is(err, syscall.ENOEXEC) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTDIR)
}

// supervisorExit is the status with which a supervisor that could not run
// its command exits, with the shell's meaning, so the controller does not
// retry it: 127 not found, 126 found but not executable.
func supervisorExit(err error) int {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
		return 127
	}
	return 126
}

// cannotSupervise is a supervisor's complaint about its own arguments.
func cannotSupervise(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "tune: trial supervisor: "+format+"\n", args...)
	return 2
}
