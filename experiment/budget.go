package experiment

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Budget bounds what one evaluation may build: reading a file (variables,
// locals, settings), or resolving one trial. Expressions can multiply
// sizes (setproduct, nested for expressions, a list of references to a
// list), so a file of a few lines could otherwise ask for terabytes; the
// budget is charged as values are built and fails the evaluation, with
// the expression that crossed it, long before memory runs out.
//
// Every value costs ValueCost units and every byte of a string one unit,
// so BudgetUnits is a million values or 16 MiB of text. Charges are atomic,
// so sharing a budget between goroutines is safe, if less exact.
type Budget struct{ left atomic.Int64 }

const (
	// BudgetUnits is what one evaluation may spend.
	BudgetUnits = 16 << 20
	// ValueCost is the cost of one value, besides a string's bytes.
	ValueCost = 16
	// IterationCost is the cost of one turn of a for expression: HCL
	// makes a new scope for each, so a turn costs more time than a value.
	IterationCost = 4 * ValueCost
)

// NewBudget returns a full budget.
func NewBudget() *Budget {
	b := &Budget{}
	b.Reset()
	return b
}

// Reset fills the budget again, at the start of an evaluation.
func (b *Budget) Reset() { b.left.Store(BudgetUnits) }

// Left is what remains.
func (b *Budget) Left() int64 { return b.left.Load() }

// ErrBudget is the error of an evaluation that would build too much; the
// BudgetError that carries it says what.
var ErrBudget = errors.New("evaluation budget exceeded")

// BudgetError says what crossed the budget.
type BudgetError struct{ What string }

func (e *BudgetError) Error() string {
	what := e.What
	if what != "" {
		what = strings.ToUpper(what[:1]) + what[1:]
	}
	return fmt.Sprintf("%s: more than tune evaluates at once (%d values, or %d MiB of text, for the file and again for each trial)",
		what, BudgetUnits/ValueCost, BudgetUnits>>20)
}

func (e *BudgetError) Unwrap() error { return ErrBudget }

// Charge spends units; what says what they are for, in the error.
func (b *Budget) Charge(units int64, what string) error {
	if b.left.Add(-units) < 0 {
		return &BudgetError{What: what}
	}
	return nil
}

// Check fails, spending nothing, when units are more than what is left.
func (b *Budget) Check(units int64, what string) error {
	if units > b.left.Load() {
		return &BudgetError{What: what}
	}
	return nil
}

// ChargeValue spends the cost of v, counted as if every shared part were
// copied, which is what printing or converting it does.
func (b *Budget) ChargeValue(v cty.Value, what string) error {
	left := b.left.Load()
	c := Cost(v, left)
	if c > left {
		b.left.Store(-1)
		return &BudgetError{What: what}
	}
	return b.Charge(c, what)
}

// Cost is the size of v in budget units, counting stops once it passes
// limit, so costing a huge value is as cheap as refusing it.
func Cost(v cty.Value, limit int64) int64 {
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() {
		return ValueCost
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return ValueCost + int64(len(v.AsString()))
	case t.IsListType(), t.IsSetType(), t.IsTupleType(), t.IsMapType(), t.IsObjectType():
		total := int64(ValueCost)
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			total += Cost(e, limit-total)
			if total > limit {
				return total
			}
		}
		return total
	}
	return ValueCost
}

// BudgetSummary is the summary of every diagnostic of the budget.
const BudgetSummary = "Value too large"

// ExplainBudget rewrites the diagnostics of function calls that failed on
// the budget, so that they say what was too large rather than name a
// function the file may not call itself.
func ExplainBudget(diags hcl.Diagnostics) {
	for _, d := range diags {
		extra, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d)
		if !ok {
			continue
		}
		var be *BudgetError
		if !errors.As(extra.FunctionCallError(), &be) {
			continue
		}
		d.Summary = BudgetSummary
		d.Detail = be.Error() + ". Use smaller collections, or fewer nested for expressions."
	}
}

// FirstBudgetError drops every diagnostic of the budget after the first:
// once it is spent, each later evaluation fails too, and only the first
// says where the size came from.
func FirstBudgetError(diags hcl.Diagnostics) hcl.Diagnostics {
	out := diags[:0:0]
	seen := false
	for _, d := range diags {
		if d.Summary == BudgetSummary {
			if seen {
				continue
			}
			seen = true
		}
		out = append(out, d)
	}
	return out
}
