package nomadsim

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Templates that read Nomad Variables, as consul-template does inside a
// Nomad client: nomadVar "path" is the variable's items in the task's
// namespace, and it blocks: while the variable does not exist the
// template is not rendered and the task does not start (consul-template
// marks the query BlockOnNil and waits for the next write). An item the
// template names that the variable lacks renders empty, or fails the task
// with "Template failed" when the template sets error_on_missing_key.

// varLookup reads a variable of the task's namespace; ok is false when
// there is none.
type varLookup func(path string) (items map[string]string, ok bool)

// nomadVarItem is one item; a template prints its value.
type nomadVarItem struct{ Key, Value string }

func (i nomadVarItem) String() string { return i.Value }

// nomadVarItems are a variable's items by key, as consul-template's
// NomadVarItems: {{ .key }} is one item.
type nomadVarItems map[string]nomadVarItem

// Keys are the item keys in order.
func (v nomadVarItems) Keys() []string {
	out := make([]string, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// missingVars says which variables a render waited for.
type missingVars struct{ paths []string }

func (m *missingVars) Error() string {
	return "Missing: nomad.var.block(" + strings.Join(m.paths, "), nomad.var.block(") + ")"
}

// isMissing says whether a render stopped for want of a variable.
func isMissing(err error) bool {
	var m *missingVars
	return errors.As(err, &m)
}

// nomadVarFunc is the template function; what it could not find is added
// to missing, so that the render is retried once the variable exists.
func nomadVarFunc(lookup varLookup, missing *missingVars) func(string) (nomadVarItems, error) {
	return func(path string) (nomadVarItems, error) {
		if path == "" {
			return nil, nil
		}
		if lookup == nil {
			return nil, fmt.Errorf("nomadVar %q: the simulator has no variables for this task", path)
		}
		items, ok := lookup(path)
		if !ok {
			missing.paths = append(missing.paths, path)
			return nil, nil
		}
		out := make(nomadVarItems, len(items))
		for k, v := range items {
			out[k] = nomadVarItem{Key: k, Value: v}
		}
		return out, nil
	}
}

// variableItems reads a variable for a template and returns a channel
// closed at the next write to the simulator's state, when a missing
// variable may have appeared.
func (s *Sim) variableItems(ns, path string) (map[string]string, bool, <-chan struct{}) {
	st := s.st
	st.lock()
	defer st.unlock()
	ch := st.changed
	v := st.vars[varKey{ns, path}]
	if v == nil {
		return nil, false, ch
	}
	items := make(map[string]string, len(v.Items))
	for k, val := range v.Items {
		items[k] = val
	}
	return items, true, ch
}

// errKilledWaiting ends a render that waited for a variable when the task
// is killed.
var errKilledWaiting = errors.New("task killed while its templates waited for a Nomad Variable")

// render builds the task's environment and renders its templates, waiting
// while a template reads a variable that does not exist yet, as a Nomad
// client's template hook holds the task before it starts.
func (tr *taskRunner) render(dirs taskDirs, local bool) (map[string]string, map[string]string, error) {
	ar := tr.ar
	for {
		var changed <-chan struct{}
		lookup := func(path string) (map[string]string, bool) {
			items, ok, ch := ar.sim.variableItems(ar.alloc.Namespace, path)
			changed = ch
			return items, ok
		}
		env, attrs := buildEnv(ar.alloc, ar.tg, tr.task, ar.node, ar.sim.nodeAttrs(ar.node), dirs, local)
		err := renderTemplates(tr.task, env, dirs.taskDir, local, lookup)
		if !isMissing(err) {
			return env, attrs, err
		}
		select {
		case <-changed:
		case <-tr.killCh:
			return nil, nil, errKilledWaiting
		case <-ar.sim.done:
			return nil, nil, errKilledWaiting
		}
	}
}
