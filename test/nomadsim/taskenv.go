package nomadsim

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/hashicorp/nomad/api"
)

// taskDirs are a task's directories as Nomad lays them out:
// <alloc>/alloc shared by the group, <alloc>/<task>/{local,secrets,tmp}.
type taskDirs struct {
	allocDir, taskDir, localDir, secretsDir string
}

func newTaskDirs(root, allocID, task string) taskDirs {
	base := filepath.Join(root, allocID)
	taskDir := filepath.Join(base, task)
	return taskDirs{
		allocDir:   filepath.Join(base, "alloc"),
		taskDir:    taskDir,
		localDir:   filepath.Join(taskDir, "local"),
		secretsDir: filepath.Join(taskDir, "secrets"),
	}
}

func (d taskDirs) create() error {
	for _, p := range []string{
		filepath.Join(d.allocDir, "logs"), filepath.Join(d.allocDir, "data"), filepath.Join(d.allocDir, "tmp"),
		d.localDir, d.secretsDir, filepath.Join(d.taskDir, "tmp"),
	} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// nodeAttrs are the names ${...} may use besides environment variables:
// node.*, attr.* and meta.*, as Nomad's task environment offers them.
func nodeAttrs(n *api.Node, region string) map[string]string {
	m := map[string]string{
		"node.unique.id":   n.ID,
		"node.region":      region,
		"node.datacenter":  n.Datacenter,
		"node.unique.name": n.Name,
		"node.class":       n.NodeClass,
		"node.pool":        n.NodePool,
	}
	for k, v := range n.Attributes {
		m["attr."+k] = v
	}
	for k, v := range n.Meta {
		m["meta."+k] = v
	}
	return m
}

// interpolation is the pattern of Nomad's helper/args: a name of letters,
// digits, '_', '-' and '.' between ${ and }. Nothing escapes it: a value
// that must reach a task as written must not hold ${name} for a name
// Nomad knows.
var interpolation = regexp.MustCompile(`\$\{[a-zA-Z0-9_\-\.]+\}`)

// replaceEnv is Nomad's ReplaceEnv: in one pass over s, ${name} becomes
// the value of name in the first of maps that has it; names none knows
// stay as written. What a replacement brings in is not looked at again.
func replaceEnv(s string, maps ...map[string]string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return interpolation.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		for _, env := range maps {
			if v, ok := env[name]; ok {
				return v
			}
		}
		return m
	})
}

// cpusetString formats reserved cores as Nomad's NOMAD_CPU_CORES does:
// ranges joined with commas ("0-3,6").
func cpusetString(cores []uint16) string {
	if len(cores) == 0 {
		return ""
	}
	var parts []string
	start, prev := cores[0], cores[0]
	flush := func() {
		if start == prev {
			parts = append(parts, strconv.Itoa(int(start)))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", start, prev))
		}
	}
	for _, c := range cores[1:] {
		if c == prev+1 {
			prev = c
			continue
		}
		flush()
		start, prev = c, c
	}
	flush()
	return strings.Join(parts, ",")
}

// buildEnv is the task's environment in Nomad's order: directories,
// limits, alloc and job identity, meta, the host's environment (raw_exec
// only), the task's env block (interpolated, before devices are known),
// then hook variables: devices, then templates with env = true.
func buildEnv(a *api.Allocation, tg *api.TaskGroup, t *api.Task, node *api.Node, attrs map[string]string, dirs taskDirs, hostEnv bool) (map[string]string, map[string]string) {
	region := attrs["node.region"]
	env := map[string]string{
		"NOMAD_ALLOC_DIR":   dirs.allocDir,
		"NOMAD_TASK_DIR":    dirs.localDir,
		"NOMAD_SECRETS_DIR": dirs.secretsDir,
	}
	if tr := a.AllocatedResources.Tasks[t.Name]; tr != nil {
		if tr.Memory.MemoryMB != 0 {
			env["NOMAD_MEMORY_LIMIT"] = strconv.FormatInt(tr.Memory.MemoryMB, 10)
		}
		if tr.Memory.MemoryMaxMB != 0 {
			env["NOMAD_MEMORY_MAX_LIMIT"] = strconv.FormatInt(tr.Memory.MemoryMaxMB, 10)
		}
		if tr.Cpu.CpuShares != 0 {
			env["NOMAD_CPU_LIMIT"] = strconv.FormatInt(tr.Cpu.CpuShares, 10)
		}
		if len(tr.Cpu.ReservedCores) > 0 {
			env["NOMAD_CPU_CORES"] = cpusetString(tr.Cpu.ReservedCores)
		}
	}
	env["NOMAD_ALLOC_ID"] = a.ID
	env["NOMAD_SHORT_ALLOC_ID"] = a.ID[:8]
	env["NOMAD_ALLOC_NAME"] = a.Name
	env["NOMAD_GROUP_NAME"] = *tg.Name
	if i := allocIndex(a.Name); i >= 0 {
		env["NOMAD_ALLOC_INDEX"] = strconv.Itoa(i)
	}
	env["NOMAD_TASK_NAME"] = t.Name
	env["NOMAD_JOB_ID"] = *a.Job.ID
	env["NOMAD_JOB_NAME"] = *a.Job.Name
	if p := deref(a.Job.ParentID); p != "" {
		env["NOMAD_JOB_PARENT_ID"] = p
	}
	env["NOMAD_DC"] = node.Datacenter
	env["NOMAD_NAMESPACE"] = a.Namespace
	env["NOMAD_REGION"] = region
	portEnv(env, a)

	meta := map[string]string{}
	for _, m := range []map[string]string{a.Job.Meta, tg.Meta, t.Meta} {
		for k, v := range m {
			meta[k] = v
		}
	}
	for k, v := range meta {
		k, v = replaceEnv(k, attrs, env), replaceEnv(v, attrs, env)
		env["NOMAD_META_"+k] = v
		env["NOMAD_META_"+strings.ToUpper(k)] = v
	}
	if hostEnv {
		for _, kv := range os.Environ() {
			k, v, ok := strings.Cut(kv, "=")
			if _, taken := env[k]; ok && !taken {
				env[k] = replaceEnv(v, attrs, env)
			}
		}
	}
	for k, v := range t.Env {
		env[k] = replaceEnv(v, attrs, env)
	}

	// The NVIDIA device plugin exposes granted GPUs only as
	// NVIDIA_VISIBLE_DEVICES.
	if tr := a.AllocatedResources.Tasks[t.Name]; tr != nil {
		var ids []string
		for _, d := range tr.Devices {
			if d.Vendor == "nvidia" {
				ids = append(ids, d.DeviceIDs...)
			}
		}
		if len(ids) > 0 {
			env["NVIDIA_VISIBLE_DEVICES"] = strings.Join(ids, ",")
		}
	}
	return env, attrs
}

// renderTemplates renders a task's embedded templates with the
// consul-template functions the job compiler uses (env, parseInt, add and
// a few other pure ones). Templates with env = true add their variables
// to env; the others, and env ones too, are written to their destination
// under the task directory when write is set (raw_exec and exec tasks).
func renderTemplates(t *api.Task, env map[string]string, dir string, write bool, vars varLookup) error {
	for i, tmpl := range t.Templates {
		var text string
		switch {
		case tmpl.EmbeddedTmpl != nil:
			text = *tmpl.EmbeddedTmpl
		case deref(tmpl.SourcePath) != "":
			data, err := os.ReadFile(filepath.Join(dir, *tmpl.SourcePath))
			if err != nil {
				return fmt.Errorf("Template failed: failed to read template %q: the simulator only renders embedded templates and files already in the task directory: %v", *tmpl.SourcePath, err)
			}
			text = string(data)
		default:
			continue
		}
		left, right := deref(tmpl.LeftDelim), deref(tmpl.RightDelim)
		if left == "" {
			left = "{{"
		}
		if right == "" {
			right = "}}"
		}
		missingKey := "missingkey=zero"
		if deref(tmpl.ErrMissingKey) {
			missingKey = "missingkey=error"
		}
		missing := &missingVars{}
		funcs := templateFuncs(env)
		funcs["nomadVar"] = nomadVarFunc(vars, missing)
		parsed, err := template.New(fmt.Sprintf("template %d", i+1)).Delims(left, right).Funcs(funcs).Option(missingKey).Parse(text)
		if err != nil {
			return fmt.Errorf("Template failed: %v (the simulator renders env, nomadVar, parseInt, parseFloat, add, subtract, multiply, toLower, toUpper, trimSpace)", err)
		}
		var out strings.Builder
		err = parsed.Execute(&out, nil)
		if len(missing.paths) > 0 {
			// consul-template renders nothing until every dependency has
			// data; an error of this pass may come from the missing one.
			return missing
		}
		if err != nil {
			return fmt.Errorf("Template failed: %v", err)
		}
		rendered := out.String()
		if write && deref(tmpl.DestPath) != "" {
			dest := filepath.Join(dir, *tmpl.DestPath)
			if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
				return fmt.Errorf("Template failed: %v", err)
			}
			perm := os.FileMode(0o644)
			if p := deref(tmpl.Perms); p != "" {
				if n, err := strconv.ParseUint(p, 8, 32); err == nil {
					perm = os.FileMode(n)
				}
			}
			if err := os.WriteFile(dest, []byte(rendered), perm); err != nil {
				return fmt.Errorf("Template failed: %v", err)
			}
		}
		if deref(tmpl.Envvars) {
			vars, err := parseEnvFile(rendered)
			if err != nil {
				return fmt.Errorf("Template failed to read environment variables: %v", err)
			}
			for k, v := range vars {
				env[k] = v
			}
		}
	}
	return nil
}

func templateFuncs(env map[string]string) template.FuncMap {
	num := func(v any) (float64, bool, error) {
		switch x := v.(type) {
		case int:
			return float64(x), true, nil
		case int64:
			return float64(x), true, nil
		case float64:
			return x, false, nil
		case string:
			if i, err := strconv.ParseInt(x, 10, 64); err == nil {
				return float64(i), true, nil
			}
			f, err := strconv.ParseFloat(x, 64)
			return f, false, err
		}
		return 0, false, fmt.Errorf("not a number: %v", v)
	}
	arith := func(op func(a, b float64) float64) func(b, a any) (any, error) {
		// consul-template's arithmetic takes the piped value last:
		// {{ x | add 3 }} is add(3, x) = x + 3.
		return func(b, a any) (any, error) {
			x, xi, err := num(a)
			if err != nil {
				return nil, err
			}
			y, yi, err := num(b)
			if err != nil {
				return nil, err
			}
			r := op(x, y)
			if xi && yi {
				return int64(r), nil
			}
			return r, nil
		}
	}
	return template.FuncMap{
		"env": func(k string) string { return env[k] },
		"parseInt": func(s string) (int64, error) {
			return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		},
		"parseFloat": func(s string) (float64, error) {
			return strconv.ParseFloat(strings.TrimSpace(s), 64)
		},
		"add":       arith(func(a, b float64) float64 { return a + b }),
		"subtract":  arith(func(a, b float64) float64 { return a - b }),
		"multiply":  arith(func(a, b float64) float64 { return a * b }),
		"toLower":   strings.ToLower,
		"toUpper":   strings.ToUpper,
		"trimSpace": strings.TrimSpace,
	}
}

// parseEnvFile reads KEY=value lines as Nomad's template env parsing does:
// blank lines and # comments are skipped, "export " is allowed, values
// may be quoted.
func parseEnvFile(s string) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		text = strings.TrimPrefix(text, "export ")
		k, v, ok := strings.Cut(text, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: missing =", line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" {
			return nil, fmt.Errorf("line %d: empty key", line)
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			uq, err := strconv.Unquote(v)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", line, err)
			}
			v = uq
		} else if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	return out, sc.Err()
}
