package nomadsim

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nomad-tune/tune/clock"
)

// exitResult is how a task ended.
type exitResult struct {
	code   int
	signal int
	err    error
}

func (e *exitResult) successful() bool { return e.code == 0 && e.signal == 0 && e.err == nil }

// startError is a driver's refusal to start a task; recoverable ones are
// retried under the restart policy, others fail the task at once.
type startError struct {
	err         error
	recoverable bool
}

func (e *startError) Error() string { return e.err.Error() }

// taskHandle is a started task.
type taskHandle interface {
	// wait delivers the exit result once.
	wait() <-chan *exitResult
	// kill asks the task to stop: the kill signal, then a hard kill after
	// timeout (simulated time). The result still arrives on wait.
	kill(signal string, timeout time.Duration)
}

// taskStart is what a driver needs to start a task.
type taskStart struct {
	clock  clock.Clock
	config map[string]any
	env    map[string]string
	dir    string // the task's working directory (raw_exec, exec)
	stdout io.Writer
	stderr io.Writer
	// interpolate evaluates a config string as Nomad's client does (see
	// configEvaluator).
	interpolate func(string) (string, error)
}

type driver interface {
	start(t *taskStart) (taskHandle, error)
}

func driverFor(name string) driver {
	switch name {
	case "mock_driver":
		return mockDriver{}
	case "raw_exec", "exec":
		return execDriver{}
	}
	return nil
}

// --- mock_driver ---

// mockConfig is the mock_driver task config Nomad's own mock driver
// takes; the same job runs here and on `nomad agent -dev`.
type mockConfig struct {
	runFor             time.Duration
	exitCode, exitSig  int
	exitErrMsg         string
	stdout, stderr     string
	stdoutRepeat       int
	stderrRepeat       int
	stdoutRepeatPeriod time.Duration
	stderrRepeatPeriod time.Duration
	startError         string
	startRecoverable   bool
	startBlockFor      time.Duration
	killAfter          time.Duration
}

var mockKeys = map[string]string{
	"run_for": "string", "exit_code": "number", "exit_signal": "number", "exit_err_msg": "string",
	"stdout_string": "string", "stdout_repeat": "number", "stdout_repeat_duration": "string",
	"stderr_string": "string", "stderr_repeat": "number", "stderr_repeat_duration": "string",
	"start_error": "string", "start_error_recoverable": "bool", "start_block_for": "string",
	"kill_after": "string", "plugin_exit_after": "string", "signal_error": "string",
	"driver_ip": "string", "driver_advertise": "bool", "driver_port_map": "string",
	"exec_command": "block",
}

func parseMockConfig(cfg map[string]any, interpolate func(string) (string, error)) (*mockConfig, error) {
	c := &mockConfig{}
	for _, k := range sortedKeys(cfg) {
		want, ok := mockKeys[k]
		if !ok {
			return nil, fmt.Errorf("failed to parse config: Unsupported argument: An argument named %q is not expected here.", k)
		}
		v := cfg[k]
		switch want {
		case "string":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("failed to parse config: Incorrect attribute value type: %s must be a string", k)
			}
			text, err := interpolate(s)
			if err != nil {
				return nil, err
			}
			cfg[k] = text
		case "number":
			if _, ok := v.(float64); !ok {
				return nil, fmt.Errorf("failed to parse config: Incorrect attribute value type: %s must be a number", k)
			}
		case "bool":
			if _, ok := v.(bool); !ok {
				return nil, fmt.Errorf("failed to parse config: Incorrect attribute value type: %s must be a bool", k)
			}
		}
	}
	str := func(k string) string { s, _ := cfg[k].(string); return s }
	num := func(k string) int { f, _ := cfg[k].(float64); return int(math.Round(f)) }
	dur := func(k string) (time.Duration, error) {
		s := str(k)
		if s == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%s %v not a valid duration: %v", k, s, err)
		}
		return d, nil
	}
	var err error
	if c.runFor, err = dur("run_for"); err != nil {
		return nil, err
	}
	if c.stdoutRepeatPeriod, err = dur("stdout_repeat_duration"); err != nil {
		return nil, err
	}
	if c.stderrRepeatPeriod, err = dur("stderr_repeat_duration"); err != nil {
		return nil, err
	}
	if c.startBlockFor, err = dur("start_block_for"); err != nil {
		return nil, err
	}
	if c.killAfter, err = dur("kill_after"); err != nil {
		return nil, err
	}
	c.exitCode, c.exitSig = num("exit_code"), num("exit_signal")
	c.exitErrMsg = str("exit_err_msg")
	c.stdout, c.stderr = str("stdout_string"), str("stderr_string")
	c.stdoutRepeat, c.stderrRepeat = num("stdout_repeat"), num("stderr_repeat")
	c.startError = str("start_error")
	c.startRecoverable, _ = cfg["start_error_recoverable"].(bool)
	return c, nil
}

type mockDriver struct{}

func (mockDriver) start(t *taskStart) (taskHandle, error) {
	cfg := make(map[string]any, len(t.config))
	for k, v := range t.config {
		cfg[k] = v
	}
	c, err := parseMockConfig(cfg, t.interpolate)
	if err != nil {
		return nil, &startError{err: err}
	}
	if c.startBlockFor > 0 {
		<-t.clock.After(c.startBlockFor)
	}
	if c.startError != "" {
		return nil, &startError{err: errors.New(c.startError), recoverable: c.startRecoverable}
	}
	h := &mockHandle{clock: t.clock, cfg: c, done: make(chan *exitResult, 1), killCh: make(chan struct{})}
	// The first output is in the log before the task counts as started:
	// Nomad leaves the order open, and this one spares every reader that
	// saw "Started" a race with the task's first write.
	io.WriteString(t.stdout, c.stdout)
	io.WriteString(t.stderr, c.stderr)
	go h.run(t.stdout, t.stderr)
	return h, nil
}

type mockHandle struct {
	clock    clock.Clock
	cfg      *mockConfig
	done     chan *exitResult
	killCh   chan struct{}
	killOnce sync.Once
}

func (h *mockHandle) wait() <-chan *exitResult { return h.done }

func (h *mockHandle) kill(string, time.Duration) {
	h.killOnce.Do(func() {
		if h.cfg.killAfter > 0 {
			go func() {
				<-h.clock.After(h.cfg.killAfter)
				close(h.killCh)
			}()
			return
		}
		close(h.killCh)
	})
}

// run is the mock driver's runCommand after the first output: repeat the
// output, wait run_for, then wait for the output to finish, and exit with
// the configured code; a kill ends it early.
func (h *mockHandle) run(stdout, stderr io.Writer) {
	c := h.cfg
	var wg sync.WaitGroup
	output := func(w io.Writer, s string, repeat int, period time.Duration) {
		defer wg.Done()
		if s == "" {
			return
		}
		for i := 0; i < repeat; i++ {
			select {
			case <-h.killCh:
				return
			case <-h.clock.After(period):
				io.WriteString(w, s)
			}
		}
	}
	wg.Add(2)
	go output(stdout, c.stdout, c.stdoutRepeat, c.stdoutRepeatPeriod)
	go output(stderr, c.stderr, c.stderrRepeat, c.stderrRepeatPeriod)
	select {
	case <-h.clock.After(c.runFor):
		wg.Wait()
	case <-h.killCh:
	}
	var err error
	if c.exitErrMsg != "" {
		err = errors.New(c.exitErrMsg)
	}
	h.done <- &exitResult{code: c.exitCode, signal: c.exitSig, err: err}
}

// --- raw_exec and exec ---

// execDriver runs the task's command as a process on this machine, in the
// task's directory, with the task's environment: raw_exec as Nomad runs
// it, and exec without the chroot and cgroup isolation.
type execDriver struct{}

func (execDriver) start(t *taskStart) (taskHandle, error) {
	command, _ := t.config["command"].(string)
	if command == "" {
		return nil, &startError{err: errors.New("failed to parse config: Missing required argument: The argument \"command\" is required, but no definition was found.")}
	}
	command, err := t.interpolate(command)
	if err != nil {
		return nil, &startError{err: err}
	}
	var args []string
	if raw, ok := t.config["args"]; ok {
		list, ok := raw.([]any)
		if !ok {
			return nil, &startError{err: errors.New("failed to parse config: Incorrect attribute value type: args must be a list of strings")}
		}
		for _, a := range list {
			s, ok := a.(string)
			if !ok {
				return nil, &startError{err: errors.New("failed to parse config: Incorrect attribute value type: args must be a list of strings")}
			}
			text, err := t.interpolate(s)
			if err != nil {
				return nil, &startError{err: err}
			}
			args = append(args, text)
		}
	}
	path := command
	if !filepath.IsAbs(command) && !strings.Contains(command, "/") {
		if p, err := lookPath(command, t.env["PATH"]); err == nil {
			path = p
		} else {
			return nil, &startError{err: fmt.Errorf("failed to launch command with executor: rpc error: code = Unknown desc = exec: %q: executable file not found in $PATH", command)}
		}
	} else if !filepath.IsAbs(command) {
		path = filepath.Join(t.dir, command)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = t.dir
	env := make([]string, 0, len(t.env))
	for _, k := range sortedKeys(t.env) {
		env = append(env, k+"="+t.env[k])
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = t.stdout, t.stderr
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, &startError{err: fmt.Errorf("failed to launch command with executor: rpc error: code = Unknown desc = %v", err)}
	}
	h := &execHandle{clock: t.clock, cmd: cmd, done: make(chan *exitResult, 1), exited: make(chan struct{})}
	go h.waitProcess()
	return h, nil
}

func lookPath(file, pathEnv string) (string, error) {
	if pathEnv == "" {
		pathEnv = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

type execHandle struct {
	clock    clock.Clock
	cmd      *exec.Cmd
	done     chan *exitResult
	exited   chan struct{}
	killOnce sync.Once
}

func (h *execHandle) wait() <-chan *exitResult { return h.done }

// waitProcess reports the exit as Nomad's executor does.
func (h *execHandle) waitProcess() {
	res := exitFromWait(h.cmd.Wait())
	close(h.exited)
	h.done <- res
}

func (h *execHandle) kill(signal string, timeout time.Duration) {
	h.killOnce.Do(func() {
		signalGroup(h.cmd, signal)
		go func() {
			select {
			case <-h.exited:
			case <-h.clock.After(timeout):
				signalGroup(h.cmd, "SIGKILL")
			}
		}()
	})
}
