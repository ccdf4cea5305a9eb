package local

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
)

// EnvTaskDir names, on this machine, the folder a task's template
// destinations are relative to. On Nomad a task runs in that folder (its
// task directory), so "local/config.json" is found from the working
// folder; here tasks run in the experiment file's folder, and a trainer
// that reads os.environ.get("TUNE_TASK_DIR", ".") finds the file on both.
const EnvTaskDir = "TUNE_TASK_DIR"

// renderedFile is a template rendered for one task of one allocation,
// waiting to be written.
type renderedFile struct {
	// rel is the destination, relative to the task folder.
	rel  string
	data []byte
	perm os.FileMode
}

// Check finds what the local target cannot do of an experiment, before
// anything runs: an artifact or a volume (there is no go-getter and no
// Nomad client here), a task that must run as another user, and a
// template it cannot render (a source file that is missing, or an action
// other than {{ env "NAME" }}). trials are checked with the first trial's
// values; a template that fails only for a later trial fails that trial's
// start with the same message.
func Check(e *experiment.Experiment, trials []*planner.Trial) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, g := range e.Groups {
		for _, v := range g.Volumes {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Volume on the local target",
				Detail:   fmt.Sprintf("Volume %q is a Nomad %s volume, which only a Nomad client can mount. On this machine, read the data from its own path (pass it in args or env, with abspath or path.module), or run the experiment on Nomad with -address.", v.Name, v.Type),
				Subject:  v.DefRange.Ptr(),
			})
		}
		for _, t := range g.Tasks {
			for _, a := range t.Artifacts {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Artifact on the local target",
					Detail:   fmt.Sprintf("Task %q fetches an artifact, which Nomad's go-getter does on a client; this machine cannot. Run the code from its local path here (abspath(...) or \"${path.module}/...\"), or run the experiment on Nomad with -address.", t.Name),
					Subject:  a.DefRange.Ptr(),
				})
			}
		}
	}
	if len(trials) == 0 || diags.HasErrors() {
		return diags
	}
	specs, d := e.ResolveTasks(trials[0].Vars())
	if d.HasErrors() {
		return append(diags, d...)
	}
	me := currentUser()
	for gi, g := range e.Groups {
		for ti, t := range g.Tasks {
			spec := specs[gi][ti]
			if spec.User != "" && spec.User != me && t.User != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Task user on the local target",
					Detail:   fmt.Sprintf("Task %q runs as user %q, but tune runs tasks on this machine as itself (%s) and cannot switch users. Remove user for local runs (a variable can set it only on Nomad), or run the experiment on Nomad.", spec.Name, spec.User, me),
					Subject:  t.User.Range().Ptr(),
				})
			}
			env := func(string) string { return "" }
			for _, tm := range spec.Templates {
				if _, err := renderTemplate(e.Dir, tm, env); err != nil {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Template the local target cannot render",
						Detail:   fmt.Sprintf("Task %q: %s.", spec.Name, err),
						Subject:  tm.Range.Ptr(),
					})
				}
			}
		}
	}
	return diags
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}

// renderTemplate renders the part of Nomad's template language (Go
// templates, as consul-template runs them) that this machine can honour:
// plain text and {{ env "NAME" }}, with Go's {{- and -}} trimming. Anything
// else (key, service, secret, nomadVar, pipes, ...) needs a Nomad client
// and is an error rather than text left unrendered. A relative source is
// read from the experiment's folder.
func renderTemplate(dir string, t experiment.Template, env func(string) string) (renderedFile, error) {
	text := t.Data
	if t.Source != "" {
		path := t.Source
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		src, d := readTemplateSource(path)
		if d != "" {
			return renderedFile{}, fmt.Errorf("cannot read template source %s: %s", t.Source, d)
		}
		text = src
	}
	left, right := t.LeftDelim, t.RightDelim
	if left == "" {
		left = "{{"
	}
	if right == "" {
		right = "}}"
	}
	var out strings.Builder
	for {
		i := strings.Index(text, left)
		if i < 0 {
			out.WriteString(text)
			break
		}
		action := text[i+len(left):]
		j := strings.Index(action, right)
		if j < 0 {
			return renderedFile{}, fmt.Errorf("the template has %q without a closing %q", left, right)
		}
		before, rest := text[:i], action[j+len(right):]
		action = action[:j]
		if strings.HasPrefix(action, "- ") {
			before = strings.TrimRight(before, " \t\r\n")
			action = action[1:]
		}
		if strings.HasSuffix(action, " -") {
			rest = strings.TrimLeft(rest, " \t\r\n")
			action = action[:len(action)-1]
		}
		name, ok := envAction(action)
		if !ok {
			return renderedFile{}, fmt.Errorf("the local target renders plain text and %s env \"NAME\" %s only, not %s%s%s; run the experiment on Nomad for the rest of Nomad's template functions", left, right, left, action, right)
		}
		out.WriteString(before)
		out.WriteString(env(name))
		text = rest
	}
	perm := os.FileMode(0o644)
	if t.Perms != "" {
		p, err := strconv.ParseUint(t.Perms, 8, 12)
		if err != nil {
			return renderedFile{}, fmt.Errorf("perms %q is not an octal file mode", t.Perms)
		}
		perm = os.FileMode(p)
	}
	return renderedFile{rel: filepath.Clean(t.Destination), data: []byte(out.String()), perm: perm}, nil
}

// envAction reads the name of an action `env "NAME"`.
func envAction(action string) (string, bool) {
	fields := strings.Fields(action)
	if len(fields) != 2 || fields[0] != "env" {
		return "", false
	}
	name, err := strconv.Unquote(fields[1])
	if err != nil || name == "" {
		return "", false
	}
	return name, true
}

// maxTemplateSource bounds a template's source file: a template is text
// of a few kilobytes, and a wrong path must not be read whole.
const maxTemplateSource = 4 << 20

func readTemplateSource(path string) (string, string) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return "", err.Error()
	case !st.Mode().IsRegular():
		return "", "it is not a regular file"
	case st.Size() > maxTemplateSource:
		return "", fmt.Sprintf("it is larger than %d MiB", maxTemplateSource>>20)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err.Error()
	}
	return string(b), ""
}

// templateEnv reads a rendered env template as Nomad does: one NAME=VALUE
// a line, blank lines and # comments skipped, values optionally quoted.
func templateEnv(data []byte) ([]string, error) {
	var out []string
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("line %d of an env template is not NAME=VALUE: %q", n+1, line)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			if value[0] == '"' {
				if u, err := strconv.Unquote(value); err == nil {
					value = u
				} else {
					value = value[1 : len(value)-1]
				}
			} else {
				value = value[1 : len(value)-1]
			}
		}
		out = append(out, name+"="+value)
	}
	return out, nil
}

// writeTaskFiles writes a task's rendered templates under its folder
// (allocDir/task, as Nomad lays out an allocation), through an os.Root at
// the allocation's folder: a destination such as ../alloc/data.json
// reaches the allocation's shared folder, as on Nomad, and no link sends
// a write outside it.
func writeTaskFiles(allocDir, task string, files []renderedFile) error {
	if len(files) == 0 {
		return nil
	}
	if err := os.MkdirAll(allocDir, 0o777); err != nil {
		return err
	}
	root, err := os.OpenRoot(allocDir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, f := range files {
		rel := filepath.Join(task, f.rel)
		if err := root.MkdirAll(filepath.Dir(rel), 0o777); err != nil {
			return fmt.Errorf("template %s: %w", f.rel, err)
		}
		if err := root.WriteFile(rel, f.data, f.perm); err != nil {
			return fmt.Errorf("template %s: %w", f.rel, err)
		}
		// WriteFile keeps an existing file's mode, as a retried attempt
		// finds it; the template's perms are the file's.
		if err := root.Chmod(rel, f.perm); err != nil {
			return fmt.Errorf("template %s: %w", f.rel, err)
		}
	}
	return nil
}
