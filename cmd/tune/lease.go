package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	nomaddrv "github.com/nomad-tune/tune/driver/nomad"
	"github.com/nomad-tune/tune/experiment"
)

// exitHeld is apply's "another tune apply drives this experiment":
// nothing was started or changed, and trying again later may work.
const exitHeld = 4

// leaseRelease bounds the release of the lease at exit.
const leaseRelease = 10 * time.Second

// takeLease makes this apply the one that drives the experiment on the
// cluster, or says why it cannot and returns the exit status. done ends
// the lease: it closes the driver first (stopping what still runs), so
// that no other apply takes the experiment over while its trials are
// being stopped, then releases the lease. On this machine there is no
// lease: trials end with the process that started them.
// Interrupted, the release is given interruptWait at most.
func takeLease(env *cliEnv, in *interrupts, tgt *target, exp *experiment.Experiment, resultsDir string, ttl time.Duration, lock bool) (done func(), code int) {
	if tgt.nomad == nil {
		return func() {}, exitOK
	}
	if !lock {
		fmt.Fprintf(env.stderr, "tune apply: running without the experiment's lease (-lock=false): nothing stops another tune apply of %q from driving it too\n", exp.Name)
		return func() {}, exitOK
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown host"
	}
	results, err := filepath.Abs(filepath.Join(resultsDir, exp.Name))
	if err != nil {
		results = filepath.Join(resultsDir, exp.Name)
	}
	holder := nomaddrv.LeaseHolder{Host: host, PID: os.Getpid(), Results: results, Since: time.Now()}
	dead := func(h nomaddrv.LeaseHolder) bool { return h.Host == host && processGone(h.PID) }
	lease, err := tgt.nomad.AcquireLease(in.ctx, nomaddrv.LeaseOptions{Holder: holder, TTL: ttl, Dead: dead})
	var held *nomaddrv.LeaseHeldError
	var denied *nomaddrv.LeaseDeniedError
	switch {
	case errors.As(err, &held):
		fmt.Fprintf(env.stderr, "tune apply: %v\n", err)
		fmt.Fprintf(env.stderr, "Nothing was started or changed. Wait for it to end, or stop it (Ctrl-C in its terminal); if it died, tune apply on its host resumes the experiment at once, and from any other machine once its lease lapses, %s after its last renewal.\n", held.TTL)
		return nil, exitHeld
	case errors.As(err, &denied):
		fmt.Fprintf(env.stderr, "tune apply: %v\n", err)
		fmt.Fprintln(env.stderr, "Grant those capabilities, or run with -lock=false to go on without the lease (then nothing stops a second tune apply of this experiment).")
		return nil, exitError
	case err != nil:
		fmt.Fprintf(env.stderr, "tune apply: %v\n", err)
		return nil, exitError
	}
	stopWatch := make(chan struct{})
	go func() {
		select {
		case <-lease.Lost():
			// Another apply drives the experiment now and follows its
			// jobs: stopping them would undo its work, so this one exits
			// as if it had died. Every results file is replaced whole or
			// appended a line at a time, so nothing is left half-written.
			fmt.Fprintf(env.stderr, "\ntune apply: the lease of %q was taken over by %s (this apply could not renew it in time); exiting and leaving its trials to that apply\n", exp.Name, lease.LostTo())
			os.Exit(exitError)
		case <-stopWatch:
		}
	}()
	return func() {
		close(stopWatch)
		tgt.driver.Close()
		ctx, cancel := in.bounded(leaseRelease)
		defer cancel()
		if err := lease.Release(ctx); err != nil {
			fmt.Fprintf(env.stderr, "tune apply: releasing the experiment's lease: %v (it lapses by itself)\n", err)
		}
	}, exitOK
}
