package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclwrite"

	tunehcl "github.com/nomad-tune/tune/hcl"
)

const fmtUsage = `
Usage: tune fmt [options] [FILE|DIR ...]

  Rewrites experiment files (*.hcl) in the canonical HCL style, as
  terraform fmt does. With no arguments, formats the .hcl files of the
  current folder; "-" reads standard input and writes standard output.
  A file with a syntax error is reported and left untouched.
`

func runFmt(env *cliEnv, args []string) int {
	fs := newFlagSet("fmt", fmtUsage, env.stderr)
	check := fs.Bool("check", false, "Only check: list files that are not formatted and exit 3 if any.")
	list := fs.Bool("list", true, "List the files whose formatting changed.")
	write := fs.Bool("write", true, "Write the result to the file (false: print it).")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return flagStatus(err)
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	parser := hclparse.NewParser()
	status := exitOK
	for _, p := range paths {
		if p == "-" {
			src, d := tunehcl.ReadSourceFrom(env.stdin, "standard input", "standard input")
			if d != nil {
				printDiags(env.stderr, parser, hcl.Diagnostics{d})
				return exitError
			}
			out, diags := formatSource(parser, src, "<stdin>")
			if diags.HasErrors() {
				printDiags(env.stderr, parser, diags)
				return exitError
			}
			if *check {
				if !bytes.Equal(src, out) {
					fmt.Fprintln(env.stdout, "<stdin>")
					status = exitUnformatted
				}
				continue
			}
			_, _ = env.stdout.Write(out)
			continue
		}
		files, err := hclFiles(p)
		if err != nil {
			fmt.Fprintf(env.stderr, "tune fmt: %v\n", err)
			return exitError
		}
		for _, f := range files {
			s := formatFile(env, parser, f, *check, *list, *write)
			if s > status {
				status = s
			}
		}
	}
	return status
}

func formatFile(env *cliEnv, parser *hclparse.Parser, path string, check, list, write bool) int {
	src, d := tunehcl.ReadSource(path, "file")
	if d != nil {
		printDiags(env.stderr, parser, hcl.Diagnostics{d})
		return exitError
	}
	out, diags := formatSource(parser, src, path)
	if diags.HasErrors() {
		printDiags(env.stderr, parser, diags)
		return exitError
	}
	if bytes.Equal(src, out) {
		return exitOK
	}
	if check {
		fmt.Fprintln(env.stdout, path)
		return exitUnformatted
	}
	if !write {
		_, _ = env.stdout.Write(out)
		return exitOK
	}
	if err := writeFileAtomic(path, out); err != nil {
		fmt.Fprintf(env.stderr, "tune fmt: %v\n", err)
		return exitError
	}
	if list {
		fmt.Fprintln(env.stdout, path)
	}
	return exitOK
}

// formatSource checks the syntax first: hclwrite would format a broken
// file into a differently broken one.
func formatSource(parser *hclparse.Parser, src []byte, name string) ([]byte, hcl.Diagnostics) {
	if _, diags := tunehcl.Parse(parser, src, name); diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), nil
}

func hclFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".hcl") {
			out = append(out, filepath.Join(path, e.Name()))
		}
	}
	return out, nil
}

// writeFileAtomic replaces a file through a temporary file in the same
// folder, so an interrupted write never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name)
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(name, mode); err != nil {
		return err
	}
	return os.Rename(name, path)
}
