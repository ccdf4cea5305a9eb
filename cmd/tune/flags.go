package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/nomad-tune/tune/driver/local"
	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
)

// stringList is a repeatable string flag (-var a=1 -var b=2).
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// sizeFlag reads a memory size: a number of MiB or a size with units.
type sizeFlag struct{ mib int64 }

func (s *sizeFlag) String() string {
	if s.mib == 0 {
		return ""
	}
	return strconv.FormatInt(s.mib, 10)
}

func (s *sizeFlag) Set(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 {
			return fmt.Errorf("must not be negative")
		}
		s.mib = int64(f)
		return nil
	}
	b, err := experiment.ParseBytes(v)
	if err != nil {
		return err
	}
	if b < 0 {
		return fmt.Errorf("must not be negative")
	}
	s.mib = int64(experiment.MiBCeil(b))
	return nil
}

// varFlags are the input-variable options every command that reads an
// experiment file takes.
type varFlags struct {
	vars     stringList
	varFiles stringList
}

func (v *varFlags) register(fs *flag.FlagSet) {
	fs.Var(&v.vars, "var", "Set an input variable: -var name=value (repeatable).")
	fs.Var(&v.varFiles, "var-file", "Read input variables from an HCL file (repeatable).")
}

func (v *varFlags) options(parser *hclparse.Parser) tunehcl.Options {
	return tunehcl.Options{Vars: v.vars, VarFiles: v.varFiles, Parser: parser}
}

// localFlags describe this machine to the local target, as
// ray.init(num_cpus=, num_gpus=) does; zero means detect.
type localFlags struct {
	cpus   float64
	gpus   int
	memory sizeFlag
}

func (l *localFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&l.cpus, "local-cpus", 0, "CPUs of this machine to use (default: all).")
	fs.IntVar(&l.gpus, "local-gpus", 0, "GPUs of this machine to use, declared when NVML cannot see them (default: detected).")
	fs.Var(&l.memory, "local-memory", "Memory of this machine to use, in MiB or with units such as 16GiB (default: all).")
}

func (l *localFlags) options(logger hclog.Logger) local.CapacityOptions {
	return local.CapacityOptions{CPUs: l.cpus, GPUs: l.gpus, MemoryMiB: l.memory.mib, Logger: logger}
}

// parseArgs parses flags that may come before or after the positional
// arguments (`tune plan file.hcl -json` as well as `tune plan -json
// file.hcl`), and returns the positionals.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if rest[0] == "--" || rest[0] == "-" {
			positional = append(positional, rest...)
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// flagStatus is the exit status of a command whose options did not parse:
// 0 when -h or -help asked for the usage, which the flag set has printed.
func flagStatus(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitError
}

func newFlagSet(name, usageText string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, strings.TrimLeft(usageText, "\n"))
		fmt.Fprintln(stderr, "\nOptions:")
		fs.PrintDefaults()
	}
	return fs
}
