//go:build linux

package local

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux each task runs under a supervisor: tune itself, started again
// with SupervisorCommand, which starts the task and stays its parent. The
// supervisor
//
//   - is a child subreaper (PR_SET_CHILD_SUBREAPER), so whatever the task
//     starts stays in its tree even when a shell in between exits or a
//     daemon forks twice;
//   - learns of tune's death at once, however tune dies (kill -9, a
//     crash, the OOM killer), from the end of a control pipe only tune
//     holds (and from a parent-death signal);
//   - then kills every process of its tree and exits, so that nothing of
//     the trial outlives tune and a resumed trial never runs beside its
//     old attempt; tune closes the pipe itself to have the same done when
//     a stopped task outlives its grace period, so that what left the
//     task's process group goes too;
//   - kills what is left of the tree when the task exits, as Nomad's
//     executor does, and exits as the task did (its status, or its
//     signal), so the driver sees the task's own end.
//
// It shares the task's process group, which tune's stop signals as
// before: the supervisor ignores the SIGTERM and waits for the task.

// MaybeSupervise runs the trial supervisor, and exits, when this process
// was started as one; otherwise it notes that this binary can be one. The
// tune command calls it first thing in main, and a test binary that runs
// local trials in its TestMain.
func MaybeSupervise() {
	if len(os.Args) > 1 && os.Args[1] == SupervisorCommand {
		os.Exit(supervise(os.Args[2:]))
	}
	// Without /proc (a bare container) the supervisor can neither be
	// started as this binary nor find a task's descendants.
	_, err := os.Stat("/proc/self/exe")
	supervisorReady = err == nil
}

// taskCommand is the command that runs a task in a process group of its
// own: under a supervisor when this binary can be one, otherwise directly
// with a parent-death signal, which reaches only the task itself.
func taskCommand(path, argv0 string, args []string) (*exec.Cmd, *supervision) {
	attr := processGroup()
	sup, err := newSupervision()
	if !supervisorReady || err != nil {
		attr.Pdeathsig = syscall.SIGKILL
		cmd := exec.Command(path, args...)
		cmd.Args[0] = argv0
		cmd.SysProcAttr = attr
		return cmd, nil
	}
	// SIGTERM, which the supervisor catches: SIGKILL would leave it no
	// time to kill the tree.
	attr.Pdeathsig = syscall.SIGTERM
	cmd := exec.Command("/proc/self/exe", append([]string{SupervisorCommand, strconv.Itoa(os.Getpid()), path, argv0}, args...)...)
	cmd.Args[0] = os.Args[0]
	cmd.SysProcAttr = attr
	cmd.ExtraFiles = []*os.File{sup.r} // fd 3
	return cmd, sup
}

// supervise is the supervisor: TUNE_PID PATH ARGV0 [ARGS...].
func supervise(args []string) int {
	if len(args) < 3 {
		return cannotSupervise("want TUNE_PID PATH ARGV0 [ARGS...], got %q", args)
	}
	tunePID, err := strconv.Atoi(args[0])
	if err != nil {
		return cannotSupervise("bad tune pid %q", args[0])
	}
	path, argv := args[1], args[2:]

	// The control pipe is tune's; the task must not hold it. Its end
	// means tune is gone, or wants the task's tree gone now.
	syscall.CloseOnExec(3)
	ended := make(chan struct{})
	go func() {
		control := os.NewFile(3, "tune")
		var b [1]byte
		for {
			if _, err := control.Read(b[:]); err != nil {
				close(ended)
				return
			}
		}
	}()
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "tune: trial supervisor: cannot become a subreaper (%v); what the task leaves behind may outlive tune\n", err)
	}
	if os.Getppid() != tunePID {
		// tune died before this process could watch it.
		return 128 + int(syscall.SIGKILL)
	}

	cmd := &exec.Cmd{Path: path, Args: argv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "tune: cannot run %s: %v\n", argv[0], err)
		return supervisorExit(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	for {
		select {
		case <-exited:
			killTree()
			return exitAs(cmd.ProcessState)
		case <-ended:
			return killAll()
		case <-signals:
			if os.Getppid() != tunePID {
				return killAll()
			}
			// A stop from tune: it signalled the whole process group, the
			// task included; the task's end ends this loop.
		}
	}
}

// killAll kills the task's whole tree, then the supervisor itself, so that
// tune sees the task killed as it asked.
func killAll() int {
	killTree()
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	return 128 + int(syscall.SIGKILL)
}

// exitAs ends the supervisor as its task ended: with its status, or by
// its signal, so that tune sees how the task itself ended.
func exitAs(ps *os.ProcessState) int {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return ps.ExitCode()
	}
	sig := ws.Signal()
	signal.Reset(sig)
	// The task left its own core dump, if any; the supervisor's would be
	// noise.
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	defaultAction(sig)
	_ = syscall.Kill(os.Getpid(), sig)
	// Only a signal whose default is not to end the process gets here,
	// after it had its chance; the shell's convention says the rest.
	time.Sleep(100 * time.Millisecond)
	return 128 + int(sig)
}

// defaultAction gives a signal the kernel's default action. The Go
// runtime's own handler would turn a SIGSEGV or SIGABRT raised here into
// a crash report of the supervisor on the task's stderr, and exit 2. A
// kernel sigaction whose fields are all zero is SIG_DFL without flags on
// every architecture, whatever its layout.
func defaultAction(sig syscall.Signal) {
	var act [64]byte
	sigsetSize := 8 // _NSIG / 8
	if strings.HasPrefix(runtime.GOARCH, "mips") {
		sigsetSize = 16
	}
	_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, uintptr(sigsetSize), 0, 0)
}

// killTree kills every descendant of this process and reaps them; it
// returns once none is left. A process with no children has no
// descendants either: as a subreaper it inherits whatever the task started
// and left behind. So the common case, a task that left nothing, costs one
// wait and no look at /proc.
func killTree() {
	self := os.Getpid()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		switch {
		case errors.Is(err, syscall.ECHILD):
			return
		case err == nil && pid > 0:
			continue // reaped one; look again
		}
		for _, pid := range descendants(self) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		// Killed children end promptly; their orphans come here next.
		if _, err := syscall.Wait4(-1, &ws, 0, nil); errors.Is(err, syscall.ECHILD) {
			return
		}
	}
}

// descendants are the processes below pid, from /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(p); ok {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// parentOf reads a process's parent from /proc/PID/stat, whose fourth
// field follows the command name in parentheses (which may hold spaces).
func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	return ppid, err == nil
}
