package nomadsim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/hashicorp/nomad/api"
)

// filterSyntax is what the simulator's filter parser understands, a
// subset of go-bexpr, named in its errors so a test knows what to avoid.
const filterSyntax = `supported filter syntax: selectors such as ID, Name, Status or Meta["key"] (also Meta.key); ` +
	`operators ==, !=, in, not in, contains, not contains, matches, not matches, is empty, is not empty; ` +
	`and, or, not and parentheses; values as "quoted" or ` + "`raw`" + ` strings, numbers, true or false`

// filterExpr is a parsed filter expression.
type filterExpr struct {
	op          string // "and", "or", "not", or a match operator
	left, right *filterExpr
	selector    []string
	value       string
	re          *regexp.Regexp
}

// datum resolves selectors against one object of a list.
type datum func(path []string) (any, bool, error)

type token struct {
	kind string // ident, string, number, op, lparen, rparen, lbracket, rbracket, dot, eof
	text string
}

func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(':
			out = append(out, token{"lparen", "("})
			i++
		case c == ')':
			out = append(out, token{"rparen", ")"})
			i++
		case c == '[':
			out = append(out, token{"lbracket", "["})
			i++
		case c == ']':
			out = append(out, token{"rbracket", "]"})
			i++
		case c == '.':
			out = append(out, token{"dot", "."})
			i++
		case c == '=' || c == '!':
			if i+1 < len(s) && s[i+1] == '=' {
				out = append(out, token{"op", s[i : i+2]})
				i += 2
			} else {
				return nil, fmt.Errorf("unexpected %q at offset %d", c, i)
			}
		case c == '"':
			j := i + 1
			var b strings.Builder
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at offset %d", i)
			}
			out = append(out, token{"string", b.String()})
			i = j + 1
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return nil, fmt.Errorf("unterminated raw string at offset %d", i)
			}
			out = append(out, token{"string", s[i+1 : i+1+j]})
			i += j + 2
		case unicode.IsDigit(c) || c == '-':
			j := i + 1
			for j < len(s) && (unicode.IsDigit(rune(s[j])) || s[j] == '.') {
				j++
			}
			out = append(out, token{"number", s[i:j]})
			i = j
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_' || s[j] == '-') {
				j++
			}
			out = append(out, token{"ident", s[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at offset %d", c, i)
		}
	}
	return append(out, token{"eof", ""}), nil
}

type filterParser struct {
	toks []token
	pos  int
}

func (p *filterParser) peek() token { return p.toks[p.pos] }
func (p *filterParser) next() token {
	t := p.toks[p.pos]
	if t.kind != "eof" {
		p.pos++
	}
	return t
}
func (p *filterParser) keyword(words ...string) bool {
	for i, w := range words {
		if p.pos+i >= len(p.toks) || p.toks[p.pos+i].kind != "ident" || p.toks[p.pos+i].text != w {
			return false
		}
	}
	p.pos += len(words)
	return true
}

// parseFilter parses a filter expression; its errors name the supported
// syntax.
func parseFilter(s string) (*filterExpr, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, fmt.Errorf("%v (%s)", err, filterSyntax)
	}
	p := &filterParser{toks: toks}
	e, err := p.or()
	if err == nil && p.peek().kind != "eof" {
		err = fmt.Errorf("unexpected %q", p.peek().text)
	}
	if err != nil {
		return nil, fmt.Errorf("%v (%s)", err, filterSyntax)
	}
	return e, nil
}

func (p *filterParser) or() (*filterExpr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &filterExpr{op: "or", left: l, right: r}
	}
	return l, nil
}

func (p *filterParser) and() (*filterExpr, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &filterExpr{op: "and", left: l, right: r}
	}
	return l, nil
}

func (p *filterParser) not() (*filterExpr, error) {
	if p.keyword("not") {
		inner, err := p.not()
		if err != nil {
			return nil, err
		}
		return &filterExpr{op: "not", left: inner}, nil
	}
	return p.primary()
}

func (p *filterParser) primary() (*filterExpr, error) {
	if p.peek().kind == "lparen" {
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next().kind != "rparen" {
			return nil, fmt.Errorf("missing )")
		}
		return e, nil
	}
	// value in selector / value not in selector
	if t := p.peek(); t.kind == "string" || t.kind == "number" {
		p.next()
		op := ""
		switch {
		case p.keyword("in"):
			op = "in"
		case p.keyword("not", "in"):
			op = "not in"
		default:
			return nil, fmt.Errorf("expected in or not in after %q", t.text)
		}
		sel, err := p.selector()
		if err != nil {
			return nil, err
		}
		return &filterExpr{op: op, selector: sel, value: t.text}, nil
	}
	sel, err := p.selector()
	if err != nil {
		return nil, err
	}
	e := &filterExpr{selector: sel}
	switch {
	case p.peek().kind == "op":
		e.op = p.next().text
	case p.keyword("is", "not", "empty"):
		e.op = "is not empty"
		return e, nil
	case p.keyword("is", "empty"):
		e.op = "is empty"
		return e, nil
	case p.keyword("contains"):
		e.op = "contains"
	case p.keyword("not", "contains"):
		e.op = "not contains"
	case p.keyword("matches"):
		e.op = "matches"
	case p.keyword("not", "matches"):
		e.op = "not matches"
	default:
		return nil, fmt.Errorf("expected an operator after %s", strings.Join(sel, "."))
	}
	v := p.next()
	switch v.kind {
	case "string", "number":
	case "ident":
		if v.text != "true" && v.text != "false" {
			return nil, fmt.Errorf("value %s must be quoted", v.text)
		}
	default:
		return nil, fmt.Errorf("expected a value after %s", e.op)
	}
	e.value = v.text
	if e.op == "matches" || e.op == "not matches" {
		re, err := regexp.Compile(e.value)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q: %v", e.value, err)
		}
		e.re = re
	}
	return e, nil
}

func (p *filterParser) selector() ([]string, error) {
	t := p.next()
	if t.kind != "ident" {
		return nil, fmt.Errorf("expected a selector, got %q", t.text)
	}
	sel := []string{t.text}
	for {
		switch p.peek().kind {
		case "dot":
			p.next()
			part := p.next()
			if part.kind != "ident" && part.kind != "number" {
				return nil, fmt.Errorf("expected a name after .")
			}
			sel = append(sel, part.text)
		case "lbracket":
			p.next()
			key := p.next()
			if key.kind != "string" {
				return nil, fmt.Errorf("expected a quoted key in []")
			}
			if p.next().kind != "rbracket" {
				return nil, fmt.Errorf("missing ]")
			}
			sel = append(sel, key.text)
		default:
			return sel, nil
		}
	}
}

// match evaluates the expression against one object.
func (e *filterExpr) match(d datum) (bool, error) {
	switch e.op {
	case "and":
		l, err := e.left.match(d)
		if err != nil || !l {
			return false, err
		}
		return e.right.match(d)
	case "or":
		l, err := e.left.match(d)
		if err != nil || l {
			return l, err
		}
		return e.right.match(d)
	case "not":
		v, err := e.left.match(d)
		return !v, err
	}
	val, found, err := d(e.selector)
	if err != nil {
		return false, err
	}
	switch e.op {
	case "==":
		return found && equalValue(val, e.value), nil
	case "!=":
		return !found || !equalValue(val, e.value), nil
	case "is empty":
		return !found || isEmpty(val), nil
	case "is not empty":
		return found && !isEmpty(val), nil
	case "in", "contains":
		return found && containsValue(val, e.value), nil
	case "not in", "not contains":
		return !found || !containsValue(val, e.value), nil
	case "matches":
		s, ok := val.(string)
		return found && ok && e.re.MatchString(s), nil
	case "not matches":
		s, ok := val.(string)
		return !found || !ok || !e.re.MatchString(s), nil
	}
	return false, fmt.Errorf("unsupported operator %q (%s)", e.op, filterSyntax)
}

func equalValue(v any, want string) bool {
	switch x := v.(type) {
	case string:
		return x == want
	case bool:
		b, err := strconv.ParseBool(want)
		return err == nil && b == x
	case int:
		n, err := strconv.Atoi(want)
		return err == nil && n == x
	case uint64:
		n, err := strconv.ParseUint(want, 10, 64)
		return err == nil && n == x
	}
	return false
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []string:
		return len(x) == 0
	case map[string]string:
		return len(x) == 0
	}
	return false
}

func containsValue(v any, want string) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, want)
	case []string:
		return contains(x, want)
	case map[string]string:
		_, ok := x[want]
		return ok
	}
	return false
}

// fieldDatum builds a datum from named fields and maps; an unknown field
// is an error, as in go-bexpr, naming the fields there are.
func fieldDatum(kind string, fields map[string]any) datum {
	return func(path []string) (any, bool, error) {
		v, ok := fields[path[0]]
		if !ok {
			return nil, false, fmt.Errorf("error finding value in datum: /%s: %s has no field %q (fields: %s)",
				strings.Join(path, "/"), kind, path[0], strings.Join(sortedKeys(fields), ", "))
		}
		if len(path) == 1 {
			return v, true, nil
		}
		m, isMap := v.(map[string]string)
		if !isMap || len(path) != 2 {
			return nil, false, fmt.Errorf("error finding value in datum: /%s: only maps such as Meta take a key", strings.Join(path, "/"))
		}
		s, found := m[path[1]]
		return s, found, nil
	}
}

func jobDatum(j *api.Job) datum {
	return fieldDatum("job", map[string]any{
		"ID": *j.ID, "Name": *j.Name, "Namespace": *j.Namespace, "Type": *j.Type,
		"Status": deref(j.Status), "StatusDescription": deref(j.StatusDescription),
		"Region": *j.Region, "NodePool": *j.NodePool, "ParentID": deref(j.ParentID),
		"Priority": *j.Priority, "Stop": *j.Stop, "Datacenters": j.Datacenters,
		"Meta": nonNilMap(j.Meta), "Version": *j.Version, "Dispatched": j.Dispatched,
		"Periodic": j.IsPeriodic(), "ParameterizedJob": j.IsParameterized(),
	})
}

func allocDatum(a *api.Allocation) datum {
	return fieldDatum("allocation", map[string]any{
		"ID": a.ID, "Name": a.Name, "Namespace": a.Namespace, "EvalID": a.EvalID,
		"NodeID": a.NodeID, "NodeName": a.NodeName, "JobID": a.JobID, "TaskGroup": a.TaskGroup,
		"DesiredStatus": a.DesiredStatus, "DesiredDescription": a.DesiredDescription,
		"ClientStatus": a.ClientStatus, "ClientDescription": a.ClientDescription,
		"FollowupEvalID": a.FollowupEvalID, "NextAllocation": a.NextAllocation,
		"PreviousAllocation": a.PreviousAllocation,
	})
}

func evalDatum(e *api.Evaluation) datum {
	return fieldDatum("evaluation", map[string]any{
		"ID": e.ID, "Namespace": e.Namespace, "JobID": e.JobID, "Status": e.Status,
		"StatusDescription": e.StatusDescription, "Type": e.Type, "TriggeredBy": e.TriggeredBy,
		"NodeID": e.NodeID, "Priority": e.Priority, "BlockedEval": e.BlockedEval,
		"NextEval": e.NextEval, "PreviousEval": e.PreviousEval,
	})
}

func nodeDatum(n *api.Node) datum {
	return fieldDatum("node", map[string]any{
		"ID": n.ID, "Name": n.Name, "Datacenter": n.Datacenter, "NodePool": n.NodePool,
		"NodeClass": n.NodeClass, "Status": n.Status, "SchedulingEligibility": n.SchedulingEligibility,
		"Drain": n.Drain, "Attributes": nonNilMap(n.Attributes), "Meta": nonNilMap(n.Meta),
		"HTTPAddr": n.HTTPAddr,
	})
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
