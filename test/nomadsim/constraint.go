package nomadsim

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/hashicorp/nomad/api"
)

// Constraint operators that relate allocations to each other rather than
// filter nodes one by one; the placement code enforces them.
const (
	opDistinctHosts    = "distinct_hosts"
	opDistinctProperty = "distinct_property"
)

// constraintString names a constraint in AllocationMetric.ConstraintFiltered
// the way Nomad's Constraint.String does: "LTarget Operand RTarget".
func constraintString(c *api.Constraint) string {
	return fmt.Sprintf("%s %s %s", c.LTarget, c.Operand, c.RTarget)
}

// escapes says whether a constraint looks at a node's unique attributes,
// which makes its result differ between nodes of one computed class.
func escapes(c *api.Constraint) bool {
	for _, t := range []string{c.LTarget, c.RTarget} {
		if strings.Contains(t, "${node.unique.") || strings.Contains(t, "${attr.unique.") || strings.Contains(t, "${meta.unique.") {
			return true
		}
	}
	return false
}

// resolveNodeTarget resolves one side of a node constraint as Nomad's
// scheduler does: a literal is itself, an interpolation the node lacks
// resolves to nothing.
func resolveNodeTarget(target string, n *api.Node) (string, bool) {
	if !strings.HasPrefix(target, "${") {
		return target, true
	}
	switch target {
	case "${node.unique.id}":
		return n.ID, true
	case "${node.datacenter}":
		return n.Datacenter, true
	case "${node.unique.name}":
		return n.Name, true
	case "${node.class}":
		return n.NodeClass, true
	case "${node.pool}":
		return n.NodePool, true
	}
	switch {
	case strings.HasPrefix(target, "${attr."):
		v, ok := n.Attributes[strings.TrimSuffix(strings.TrimPrefix(target, "${attr."), "}")]
		return v, ok
	case strings.HasPrefix(target, "${meta."):
		v, ok := n.Meta[strings.TrimSuffix(strings.TrimPrefix(target, "${meta."), "}")]
		return v, ok
	}
	return "", false
}

// nodeMeets checks one node constraint with Nomad's string semantics.
func nodeMeets(c *api.Constraint, n *api.Node) bool {
	op := c.Operand
	if op == opDistinctHosts || op == opDistinctProperty {
		return true
	}
	l, lok := resolveNodeTarget(c.LTarget, n)
	r, rok := resolveNodeTarget(c.RTarget, n)
	return checkNodeConstraint(op, l, r, lok, rok)
}

func checkNodeConstraint(op, l, r string, lok, rok bool) bool {
	switch op {
	case "=", "==", "is", "":
		return lok && rok && l == r
	case "!=", "not":
		return l != r
	case "<", "<=", ">", ">=":
		return lok && rok && checkOrder(op, l, r)
	case "is_set":
		return lok
	case "is_not_set":
		return !lok
	case "version":
		return lok && rok && versionMatches(l, r, false)
	case "semver":
		return lok && rok && versionMatches(l, r, true)
	case "regexp":
		if !lok || !rok {
			return false
		}
		re := compileCached(r)
		return re != nil && re.MatchString(l)
	case "set_contains", "set_contains_all":
		return lok && rok && setContainsAll(l, r)
	case "set_contains_any":
		return lok && rok && setContainsAny(l, r)
	}
	return false
}

// checkOrder compares as integers, then floats, then strings, as Nomad's
// checkOrder does.
func checkOrder(op, l, r string) bool {
	var c int
	if li, err1 := strconv.ParseInt(l, 10, 64); err1 == nil {
		if ri, err2 := strconv.ParseInt(r, 10, 64); err2 == nil {
			c = cmpOrdered(li, ri)
			return orderHolds(op, c)
		}
	}
	if lf, err1 := strconv.ParseFloat(l, 64); err1 == nil {
		if rf, err2 := strconv.ParseFloat(r, 64); err2 == nil {
			return orderHolds(op, cmpOrdered(lf, rf))
		}
	}
	return orderHolds(op, strings.Compare(l, r))
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func orderHolds(op string, c int) bool {
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func setContainsAll(l, r string) bool {
	have := map[string]bool{}
	for _, x := range strings.Split(l, ",") {
		have[strings.TrimSpace(x)] = true
	}
	for _, x := range strings.Split(r, ",") {
		if !have[strings.TrimSpace(x)] {
			return false
		}
	}
	return true
}

func setContainsAny(l, r string) bool {
	have := map[string]bool{}
	for _, x := range strings.Split(l, ",") {
		have[strings.TrimSpace(x)] = true
	}
	for _, x := range strings.Split(r, ",") {
		if have[strings.TrimSpace(x)] {
			return true
		}
	}
	return false
}

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

// --- devices ---

// deviceMatches says whether a device group can serve a request: the name
// ("type", "vendor/type" or "vendor/type/model") and every constraint.
func deviceMatches(g *deviceGroup, req *api.RequestedDevice) bool {
	parts := strings.Split(req.Name, "/")
	switch len(parts) {
	case 1:
		if parts[0] != g.typ {
			return false
		}
	case 2:
		if parts[0] != g.vendor || parts[1] != g.typ {
			return false
		}
	case 3:
		if parts[0] != g.vendor || parts[1] != g.typ || parts[2] != g.name {
			return false
		}
	default:
		return false
	}
	for _, c := range req.Constraints {
		if !deviceMeets(c.Operand, c.LTarget, c.RTarget, g) {
			return false
		}
	}
	return true
}

// attr is a typed device attribute value, as Nomad's psstructs.Attribute:
// a number with an optional unit, a bool or a string.
type attr struct {
	num    *float64
	isInt  bool
	str    *string
	boolv  *bool
	family string  // unit family; "" for unitless
	scale  float64 // size of the unit in its family's base
}

type unitInfo struct {
	family string
	scale  float64
}

var attrUnits = map[string]unitInfo{
	"KiB": {"B", 1 << 10}, "MiB": {"B", 1 << 20}, "GiB": {"B", 1 << 30}, "TiB": {"B", 1 << 40}, "PiB": {"B", 1 << 50}, "EiB": {"B", 1 << 60},
	"kB": {"B", 1e3}, "KB": {"B", 1e3}, "MB": {"B", 1e6}, "GB": {"B", 1e9}, "TB": {"B", 1e12}, "PB": {"B", 1e15}, "EB": {"B", 1e18},
	"KiB/s": {"B/s", 1 << 10}, "MiB/s": {"B/s", 1 << 20}, "GiB/s": {"B/s", 1 << 30}, "TiB/s": {"B/s", 1 << 40},
	"kB/s": {"B/s", 1e3}, "KB/s": {"B/s", 1e3}, "MB/s": {"B/s", 1e6}, "GB/s": {"B/s", 1e9}, "TB/s": {"B/s", 1e12},
	"MHz": {"Hz", 1e6}, "GHz": {"Hz", 1e9},
	"mW": {"W", 1e-3}, "W": {"W", 1}, "kW": {"W", 1e3}, "MW": {"W", 1e6}, "GW": {"W", 1e9},
}

// unitNamesLongestFirst lets "MiB/s" win over "s"-less matches when
// parsing a literal.
var unitNamesLongestFirst = func() []string {
	names := sortedKeys(attrUnits)
	for i := 0; i < len(names); i++ {
		for j := i + 1; j < len(names); j++ {
			if len(names[j]) > len(names[i]) {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	return names
}()

func fromAPIAttribute(a *api.Attribute) *attr {
	if a == nil {
		return nil
	}
	out := &attr{scale: 1}
	if u, ok := attrUnits[a.Unit]; ok {
		out.family, out.scale = u.family, u.scale
	}
	switch {
	case a.IntVal != nil:
		f := float64(*a.IntVal)
		out.num, out.isInt = &f, true
	case a.FloatVal != nil:
		f := *a.FloatVal
		out.num = &f
	case a.BoolVal != nil:
		b := *a.BoolVal
		out.boolv = &b
	case a.StringVal != nil:
		s := *a.StringVal
		out.str = &s
	default:
		return nil
	}
	return out
}

// parseAttr reads a literal as Nomad's ParseAttribute does: a number with
// a known unit suffix, a number, a bool, else a string.
func parseAttr(input string) *attr {
	out := &attr{scale: 1}
	numeric := input
	if len(input) > 0 && unicode.IsLetter(rune(input[len(input)-1])) {
		for _, u := range unitNamesLongestFirst {
			if strings.HasSuffix(input, u) {
				info := attrUnits[u]
				out.family, out.scale = info.family, info.scale
				numeric = strings.TrimSpace(strings.TrimSuffix(input, u))
				break
			}
		}
	}
	if i, err := strconv.ParseInt(numeric, 10, 64); err == nil {
		f := float64(i)
		out.num, out.isInt = &f, true
		return out
	}
	if f, err := strconv.ParseFloat(numeric, 64); err == nil {
		out.num = &f
		return out
	}
	out.family, out.scale = "", 1
	if b, err := strconv.ParseBool(input); err == nil {
		out.boolv = &b
		return out
	}
	s := input
	out.str = &s
	return out
}

// compare orders two attributes when they are comparable: numbers whose
// units share a family (or both unitless), strings with strings, bools
// with bools.
func (a *attr) compare(b *attr) (int, bool) {
	if a == nil || b == nil {
		return 0, false
	}
	if a.family != b.family {
		return 0, false
	}
	switch {
	case a.num != nil && b.num != nil:
		x, y := *a.num*a.scale, *b.num*b.scale
		if math.IsNaN(x) || math.IsNaN(y) {
			return 0, false
		}
		return cmpOrdered(x, y), true
	case a.str != nil && b.str != nil:
		return strings.Compare(*a.str, *b.str), true
	case a.boolv != nil && b.boolv != nil:
		if *a.boolv == *b.boolv {
			return 0, true
		}
		return -1, true
	}
	return 0, false
}

func (a *attr) stringValue() (string, bool) {
	if a == nil || a.str == nil {
		return "", false
	}
	return *a.str, true
}

func resolveDeviceTarget(target string, g *deviceGroup) (*attr, bool) {
	if !strings.HasPrefix(target, "${") {
		return parseAttr(target), true
	}
	switch target {
	case "${device.ids}":
		s := strings.Join(g.ids, ",")
		return &attr{str: &s, scale: 1}, true
	case "${device.model}":
		s := g.name
		return &attr{str: &s, scale: 1}, true
	case "${device.vendor}":
		s := g.vendor
		return &attr{str: &s, scale: 1}, true
	case "${device.type}":
		s := g.typ
		return &attr{str: &s, scale: 1}, true
	}
	if strings.HasPrefix(target, "${device.attr.") {
		a, ok := g.attrs[strings.TrimSuffix(strings.TrimPrefix(target, "${device.attr."), "}")]
		if !ok {
			return nil, false
		}
		return fromAPIAttribute(a), true
	}
	return nil, false
}

// deviceMeets applies a device constraint with typed comparison, as Nomad's
// checkAttributeConstraint: "40 GiB" compares with "81559 MiB", a bare 40
// does not.
func deviceMeets(op, ltarget, rtarget string, g *deviceGroup) bool {
	l, lok := resolveDeviceTarget(ltarget, g)
	r, rok := resolveDeviceTarget(rtarget, g)
	switch op {
	case "!=", "not":
		if !lok && !rok {
			return false
		}
		if lok != rok {
			return true
		}
		c, ok := l.compare(r)
		return ok && c != 0
	case "<", "<=", ">", ">=", "=", "==", "is", "":
		if !lok || !rok {
			return false
		}
		c, ok := l.compare(r)
		if !ok {
			return false
		}
		switch op {
		case "is", "==", "=", "":
			return c == 0
		default:
			return orderHolds(op, c)
		}
	case "is_set":
		return lok
	case "is_not_set":
		return !lok
	case "version", "semver", "regexp", "set_contains", "set_contains_all", "set_contains_any":
		if !lok || !rok {
			return false
		}
		ls, ok1 := l.stringValue()
		rs, ok2 := r.stringValue()
		if op == "version" || op == "semver" {
			// Nomad reads versions from numbers too ("12" is a version).
			if !ok1 && l.num != nil {
				ls, ok1 = strconv.FormatFloat(*l.num, 'f', -1, 64), true
			}
		}
		if !ok1 || !ok2 {
			return false
		}
		return checkNodeConstraint(op, ls, rs, true, true)
	}
	return false
}

// --- versions (the same rules the planner uses for `tune plan`) ---

type version struct {
	segments []int64
	pre      string
}

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
			return cmpOrdered(x, y)
		}
	}
	switch {
	case a.pre == b.pre:
		return 0
	case a.pre == "":
		return 1
	case b.pre == "":
		return -1
	}
	return strings.Compare(a.pre, b.pre)
}

// versionMatches checks a version against constraints such as
// ">= 1.2, < 2.0" or "~> 1.4"; every clause must hold.
func versionMatches(value, constraints string, strict bool) bool {
	v, ok := parseVersion(value, strict)
	if !ok {
		return false
	}
	for _, clause := range strings.Split(constraints, ",") {
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
			bound := want.segments
			var upper version
			if len(bound) == 1 {
				upper = version{segments: []int64{bound[0] + 1}}
			} else {
				b := append([]int64(nil), bound[:len(bound)-1]...)
				b[len(b)-1]++
				upper = version{segments: b}
			}
			holds = c >= 0 && compareVersions(v, upper) < 0
		}
		if !holds {
			return false
		}
	}
	return true
}
