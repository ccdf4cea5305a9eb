package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// scenarioC measures the controller's own cost: many short trials on a
// cluster with room for all of them, so admission is the bottleneck, with
// the simulator in a child process so that this process's CPU time and
// heap are tune's alone.
func scenarioC(ctx context.Context, c config) error {
	if c.cTrials < 1 || c.cNodes < 1 || c.cCores < 1 || c.cRunFor <= 0 {
		return fmt.Errorf("-c-trials, -c-nodes, -c-cores and -c-run-for must be positive")
	}
	fmt.Printf("(c) %d trials × %s simulated (mock_driver, cpu = 1, memory = 64) on %d nodes × %d cores (room for %d at once); simulator in a child process at %g×\n",
		c.cTrials, c.cRunFor, c.cNodes, c.cCores, c.cNodes*c.cCores, c.cTimeScale)
	dir, cleanup, err := c.tempDir("tune-bench-nomad-c-")
	if err != nil {
		return err
	}
	defer cleanup()

	bin := c.cSimBinary
	if bin == "" {
		bin = filepath.Join(dir, "nomadsim")
		if err := buildSim(ctx, bin); err != nil {
			return err
		}
	}
	sim, err := startSim(ctx, bin,
		"-nodes", fmt.Sprintf("%dx{cpu=%d,mhz=2400,memory=%dMiB}", c.cNodes, c.cCores, c.cCores*512),
		"-time-scale", fmt.Sprint(c.cTimeScale), "-seed", "3")
	if err != nil {
		return err
	}
	defer sim.stop()

	src := fmt.Sprintf(`experiment "bench-c" {
  num_samples = %d
  resources {
    cpu    = 1
    memory = 64
  }
  task "t" {
    driver = "mock_driver"
    config {
      run_for = %q
    }
  }
}
`, c.cTrials, c.cRunFor.String())
	r, err := runTune(ctx, c, dir, "bench-c", src, sim.addr, 0, nil)
	if err != nil {
		return err
	}
	simCPU, simErr := sim.stop()
	ok, why := r.finished()
	st := summarise(r.starts)
	perTrial := r.cpu.Seconds() * 1000 / float64(c.cTrials)
	fmt.Printf("    wall %.2fs: %.0f trials/s; %d submissions at %.0f/s (Start %s mean, %s p50, %s p99)\n",
		r.wall.Seconds(), float64(c.cTrials)/r.wall.Seconds(), st.n, st.perSecond(),
		st.mean.Round(time.Microsecond), st.p50.Round(time.Microsecond), st.p99.Round(time.Microsecond))
	fmt.Printf("    controller CPU %.2fs = %.2f ms per trial (%.0f%% of a core); the simulator's CPU %.2fs (%.2f ms per trial)\n",
		r.cpu.Seconds(), perTrial, 100*r.cpu.Seconds()/r.wall.Seconds(), simCPU.Seconds(), simCPU.Seconds()*1000/float64(c.cTrials))
	fmt.Printf("    peak heap %.0f MiB in use (HeapAlloc), %.0f MiB from the OS (Sys); peak RSS %.0f MiB%s\n",
		mib(r.peakHeap), mib(r.peakSys), mib(maxRSS()), rssNote(c))
	fmt.Printf("    peak goroutines %d; peak open file descriptors %d (limit %s)\n", r.peakGoroutines, r.peakFDs, fdLimit())
	if c.requests {
		fmt.Printf("    the driver's requests (wall time to response headers):\n%s", r.requests.summary())
	}
	if simErr != nil {
		fmt.Printf("    the simulator: %v\n", simErr)
	}
	if p := r.problems(); p != "" {
		fmt.Printf("    PROBLEMS: %s\n", p)
	}
	if !ok {
		fmt.Printf("    NOT FINISHED: %s\n", why)
		return errUnfinished
	}
	return nil
}

// fdLimit is this process's soft limit on open files.
func fdLimit() string {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return "unknown"
	}
	return fmt.Sprint(rl.Cur)
}

// rssNote says when the peak RSS is not scenario c's alone.
func rssNote(c config) string {
	for _, s := range strings.Split(c.only, ",") {
		if s = strings.TrimSpace(s); s == "a" || s == "b" {
			return " (this process's lifetime peak, scenarios a and b included: run -only c for c's own)"
		}
	}
	return ""
}

// moduleRoot is the folder of the go.mod of the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the tune module: run bench-nomad from the repository, or give -c-nomadsim")
	}
	return filepath.Dir(mod), nil
}

// buildSim builds test/cmd/nomadsim into bin.
func buildSim(ctx context.Context, bin string) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./test/cmd/nomadsim")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the simulator: %w\n%s", err, out)
	}
	return nil
}

// simProcess is the simulator running as a child process.
type simProcess struct {
	cmd    *exec.Cmd
	addr   string
	stderr *boundedBuffer
	once   sync.Once
	cpu    time.Duration
	err    error
	exited chan struct{}
}

// startSim starts the simulator and reads the address it serves on.
func startSim(ctx context.Context, bin string, args ...string) (*simProcess, error) {
	cmd := exec.Command(bin, append(args, "-log-level", "error")...)
	setParentDeathSignal(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &simProcess{cmd: cmd, stderr: &boundedBuffer{max: 64 << 10}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the simulator: %w", err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "NOMAD_ADDR="); ok {
				lines <- addr
				break
			}
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	select {
	case addr, ok := <-lines:
		if ok {
			p.addr = addr
			return p, nil
		}
		p.stop()
		return nil, fmt.Errorf("the simulator printed no NOMAD_ADDR line: %v\n%s", p.err, p.stderr.String())
	case <-time.After(time.Minute):
	case <-ctx.Done():
	}
	p.stop()
	return nil, fmt.Errorf("the simulator did not start in time\n%s", p.stderr.String())
}

// stop ends the simulator (TERM, then KILL) and returns the CPU time it
// used; later calls return the same.
func (p *simProcess) stop() (time.Duration, error) {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if ps := p.cmd.ProcessState; ps != nil {
			p.cpu = ps.UserTime() + ps.SystemTime()
		}
		if p.err != nil && p.cmd.ProcessState != nil && p.cmd.ProcessState.Success() {
			p.err = nil
		}
	})
	if p.err != nil {
		return p.cpu, fmt.Errorf("%w\n%s", p.err, p.stderr.String())
	}
	return p.cpu, nil
}

// boundedBuffer keeps the first max bytes written to it.
type boundedBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
