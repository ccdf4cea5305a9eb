package planner

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/nomad-tune/tune/experiment"
)

// Operators that constrain where the allocations of one trial go relative
// to each other rather than which nodes qualify; the placement code
// enforces them, node filtering lets them pass.
const (
	opDistinctHosts    = "distinct_hosts"
	opDistinctProperty = "distinct_property"
)

// constraintText is how a constraint is named in reports, the way Nomad's
// `job status` prints it: "${attr.cpu.arch} = arm64".
func constraintText(c experiment.Constraint) string {
	parts := make([]string, 0, 3)
	for _, p := range []string{c.Attribute, operator(c), c.Value} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// operator is the constraint's operator with Nomad's default: an operator
// left out means equality.
func operator(c experiment.Constraint) string {
	if c.Operator == "" {
		return "="
	}
	return c.Operator
}

// nodeFailure is the text of the first constraint the node does not meet,
// or "" when it meets them all. Nomad reports only the first, so a node is
// counted once in ConstraintFiltered.
func nodeFailure(n *Node, cs []experiment.Constraint) string {
	for _, c := range cs {
		op := operator(c)
		if op == opDistinctHosts || op == opDistinctProperty {
			continue
		}
		l, lok := nodeTarget(n, c.Attribute)
		r, rok := nodeTarget(n, c.Value)
		if !checkConstraint(op, l, lok, r, rok) {
			return constraintText(c)
		}
	}
	return ""
}

// deviceMeets says whether a device group satisfies a device block's
// constraints, whose targets are ${device.*}.
func deviceMeets(g *DeviceGroup, cs []experiment.Constraint) bool {
	for _, c := range cs {
		l, lok := deviceTarget(g, c.Attribute)
		r, rok := deviceTarget(g, c.Value)
		if !checkConstraint(operator(c), l, lok, r, rok) {
			return false
		}
	}
	return true
}

// interpolation returns the X of "${X}", or false for a literal, which
// Nomad compares as written.
func interpolation(target string) (string, bool) {
	if strings.HasPrefix(target, "${") && strings.HasSuffix(target, "}") {
		return target[2 : len(target)-1], true
	}
	return "", false
}

// nodeTarget resolves one side of a node constraint as Nomad's scheduler
// does. A variable the node does not have resolves to nothing, which fails
// every operator but is_not_set and !=.
func nodeTarget(n *Node, target string) (string, bool) {
	key, ok := interpolation(target)
	if !ok {
		return target, true
	}
	switch key {
	case "node.unique.id":
		return n.ID, true
	case "node.unique.name":
		return n.Name, true
	case "node.datacenter":
		return n.Datacenter, true
	case "node.class":
		return n.Class, true
	case "node.pool":
		return n.NodePool, true
	}
	if name, ok := strings.CutPrefix(key, "attr."); ok {
		v, found := n.Attributes[name]
		return v, found
	}
	if name, ok := strings.CutPrefix(key, "meta."); ok {
		v, found := n.Meta[name]
		return v, found
	}
	return "", false
}

// deviceTarget resolves one side of a device constraint.
func deviceTarget(g *DeviceGroup, target string) (string, bool) {
	key, ok := interpolation(target)
	if !ok {
		return target, true
	}
	switch key {
	case "device.model":
		return g.Name, true
	case "device.vendor":
		return g.Vendor, true
	case "device.type":
		return g.Type, true
	}
	if name, ok := strings.CutPrefix(key, "device.attr."); ok {
		if v, found := g.Attributes[name]; found {
			return v, true
		}
		if name == "model" {
			return g.Name, true
		}
	}
	return "", false
}

// checkConstraint applies one operator the way Nomad's feasibility
// checker does, so that a trial tune thinks fits is one Nomad places.
// Like Nomad, != holds when the attribute is missing (it is not equal to
// anything), while every other comparison needs both sides.
func checkConstraint(op, l string, lok bool, r string, rok bool) bool {
	both := lok && rok
	switch op {
	case opDistinctHosts, opDistinctProperty:
		return true
	case "=", "==", "is":
		return both && equalValues(l, r)
	case "!=", "not":
		return !(both && equalValues(l, r))
	case "<", "<=", ">", ">=":
		if !both {
			return false
		}
		cmp := compareValues(l, r)
		switch op {
		case "<":
			return cmp < 0
		case "<=":
			return cmp <= 0
		case ">":
			return cmp > 0
		default:
			return cmp >= 0
		}
	case "is_set":
		return lok
	case "is_not_set":
		return !lok
	case "regexp":
		if !both {
			return false
		}
		re := compileCached(r)
		return re != nil && re.MatchString(l)
	case "version":
		return both && versionMatches(l, r, false)
	case "semver":
		return both && versionMatches(l, r, true)
	case "set_contains", "set_contains_all":
		if !both {
			return false
		}
		have := setOf(l)
		for _, item := range splitSet(r) {
			if !have[item] {
				return false
			}
		}
		return true
	case "set_contains_any":
		if !both {
			return false
		}
		have := setOf(l)
		for _, item := range splitSet(r) {
			if have[item] {
				return true
			}
		}
		return false
	}
	return false
}

func splitSet(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func setOf(s string) map[string]bool {
	set := map[string]bool{}
	for _, item := range splitSet(s) {
		set[item] = true
	}
	return set
}

// regexps caches compiled constraint patterns: one constraint is checked
// against every node for every distinct trial shape.
var regexps sync.Map

func compileCached(pattern string) *regexp.Regexp {
	if re, ok := regexps.Load(pattern); ok {
		return re.(*regexp.Regexp)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil
	}
	regexps.Store(pattern, re)
	return re
}

// unit is a unit a device attribute may carry ("81559 MiB", "1410 MHz"):
// its family (values of different families never compare) and its size
// in the family's base unit.
type unit struct {
	family string
	scale  float64
}

var units = map[string]unit{
	"b": {"B", 1}, "byte": {"B", 1}, "bytes": {"B", 1},
	"kb": {"B", 1e3}, "mb": {"B", 1e6}, "gb": {"B", 1e9}, "tb": {"B", 1e12}, "pb": {"B", 1e15},
	"kib": {"B", 1 << 10}, "mib": {"B", 1 << 20}, "gib": {"B", 1 << 30}, "tib": {"B", 1 << 40}, "pib": {"B", 1 << 50},
	"hz": {"Hz", 1}, "khz": {"Hz", 1e3}, "mhz": {"Hz", 1e6}, "ghz": {"Hz", 1e9},
	"w": {"W", 1}, "mw": {"W", 1e-3}, "kw": {"W", 1e3},
}

// quantity reads "40 GiB", "81559MiB" or "16896" as a number and unit.
func quantity(s string) (float64, unit, bool) {
	text := strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsNaN(f) {
		return f, unit{}, true
	}
	i := strings.IndexFunc(text, unicode.IsLetter)
	if i <= 0 {
		return 0, unit{}, false
	}
	u, ok := units[strings.ToLower(strings.TrimSpace(text[i:]))]
	if !ok {
		return 0, unit{}, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(text[:i]), 64)
	if err != nil || math.IsNaN(f) {
		return 0, unit{}, false
	}
	return f, u, true
}

// numbers converts both sides to one unit when they are comparable
// quantities. A bare number next to a number with a unit is taken in that
// unit, so `${device.attr.memory} >= 40000` reads as MiB like the
// attribute it is compared with.
func numbers(l, r string) (float64, float64, bool, bool) {
	lf, lu, lok := quantity(l)
	rf, ru, rok := quantity(r)
	if !lok || !rok {
		return 0, 0, false, false
	}
	withUnit := lu.family != "" || ru.family != ""
	switch {
	case lu.family == ru.family:
		if withUnit {
			return lf * lu.scale, rf * ru.scale, true, true
		}
		return lf, rf, true, false
	case lu.family == "":
		return lf * ru.scale, rf * ru.scale, true, true
	case ru.family == "":
		return lf * lu.scale, rf * lu.scale, true, true
	}
	return 0, 0, false, false
}

// equalValues is string equality, as Nomad's for node attributes, except
// that quantities with units compare by size ("40 GiB" = "40960 MiB").
// Bare numbers stay strings so that versions such as 1.10 and 1.1 differ.
func equalValues(l, r string) bool {
	if l == r {
		return true
	}
	lf, rf, ok, withUnit := numbers(l, r)
	return ok && withUnit && lf == rf
}

// compareValues orders two values numerically when both are numbers
// (with comparable units), else lexically, as Nomad's checkOrder does.
func compareValues(l, r string) int {
	if lf, rf, ok, _ := numbers(l, r); ok {
		switch {
		case lf < rf:
			return -1
		case lf > rf:
			return 1
		}
		return 0
	}
	return strings.Compare(l, r)
}

// version is a dotted version such as 1.2.3-beta.1.
type version struct {
	segments []int64
	pre      string
}

// parseVersion reads a version; strict (semver) allows at most three
// segments, as semantic versions have.
func parseVersion(s string, strict bool) (version, bool) {
	text := strings.TrimPrefix(strings.TrimSpace(s), "v")
	text, _, _ = strings.Cut(text, "+")
	text, pre, _ := strings.Cut(text, "-")
	parts := strings.Split(text, ".")
	if text == "" || (strict && len(parts) > 3) {
		return version{}, false
	}
	v := version{pre: pre, segments: make([]int64, len(parts))}
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 {
			return version{}, false
		}
		v.segments[i] = n
	}
	return v, true
}

func compareVersions(a, b version) int {
	for i := 0; i < max(len(a.segments), len(b.segments)); i++ {
		var x, y int64
		if i < len(a.segments) {
			x = a.segments[i]
		}
		if i < len(b.segments) {
			y = b.segments[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return comparePrerelease(a.pre, b.pre)
}

// comparePrerelease orders pre-release tags as semver does: a release is
// newer than any of its pre-releases, numeric identifiers compare as
// numbers.
func comparePrerelease(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < min(len(as), len(bs)); i++ {
		x, xerr := strconv.ParseInt(as[i], 10, 64)
		y, yerr := strconv.ParseInt(bs[i], 10, 64)
		var c int
		switch {
		case xerr == nil && yerr == nil:
			c = cmpInt(x, y)
		case xerr == nil:
			c = -1
		case yerr == nil:
			c = 1
		default:
			c = strings.Compare(as[i], bs[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmpInt(int64(len(as)), int64(len(bs)))
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// versionMatches checks a version against constraints such as
// ">= 1.2, < 2.0" or "~> 1.4" (every clause must hold). A value that is
// not a version fails, as it does in Nomad.
func versionMatches(value, constraints string, strict bool) bool {
	v, ok := parseVersion(value, strict)
	if !ok {
		return false
	}
	clauses := strings.Split(constraints, ",")
	for _, clause := range clauses {
		clause = strings.TrimSpace(clause)
		op := "="
		for _, candidate := range []string{">=", "<=", "!=", "~>", "==", "=", ">", "<"} {
			if rest, found := strings.CutPrefix(clause, candidate); found {
				op, clause = candidate, rest
				break
			}
		}
		want, ok := parseVersion(clause, strict)
		if !ok {
			return false
		}
		c := compareVersions(v, want)
		var holds bool
		switch op {
		case "=", "==":
			holds = c == 0
		case "!=":
			holds = c != 0
		case ">":
			holds = c > 0
		case ">=":
			holds = c >= 0
		case "<":
			holds = c < 0
		case "<=":
			holds = c <= 0
		case "~>":
			holds = c >= 0 && compareVersions(v, pessimisticBound(want)) < 0
		}
		if !holds {
			return false
		}
	}
	return true
}

// pessimisticBound is the exclusive upper bound of "~> want": the
// next release of the second-to-last segment given ("~> 1.2.3" allows up to
// 1.3, "~> 1.2" up to 2).
func pessimisticBound(want version) version {
	segs := want.segments
	if len(segs) == 1 {
		return version{segments: []int64{segs[0] + 1}}
	}
	bound := append([]int64(nil), segs[:len(segs)-1]...)
	bound[len(bound)-1]++
	return version{segments: bound}
}
