package hcl

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxFileSize bounds an experiment file or a variable file. Real files are
// a few kilobytes; the bound keeps a wrong path (a device, a log, a model
// checkpoint) from being read whole into memory.
const MaxFileSize = 4 << 20

// MaxNesting bounds how deeply brackets, blocks, string templates and
// chains of unary or conditional operators may nest. HCL's parser
// recurses once per level, and a Go stack overflow cannot be recovered
// from, so the depth is checked on the tokens before parsing.
const MaxNesting = 100

// ReadSource reads a file of at most MaxFileSize bytes. Directories and
// devices are refused by their type; a pipe (such as a shell's process
// substitution) is read up to the bound.
func ReadSource(path, what string) ([]byte, *hcl.Diagnostic) {
	fail := func(detail string) *hcl.Diagnostic {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read " + what, Detail: detail}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fail(err.Error())
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fail(err.Error())
	}
	switch mode := st.Mode(); {
	case mode.IsDir():
		return nil, fail(fmt.Sprintf("%s is a directory; give the path of a file.", path))
	case mode&(os.ModeDevice|os.ModeCharDevice|os.ModeSocket) != 0:
		return nil, fail(fmt.Sprintf("%s is a device or socket, not a file.", path))
	case mode.IsRegular() && st.Size() > MaxFileSize:
		return nil, fail(tooLarge(path))
	}
	return ReadSourceFrom(f, path, what)
}

// ReadSourceFrom reads at most MaxFileSize bytes from r, such as standard
// input; name says where they come from.
func ReadSourceFrom(r io.Reader, name, what string) ([]byte, *hcl.Diagnostic) {
	src, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read " + what, Detail: err.Error()}
	}
	if len(src) > MaxFileSize {
		return nil, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read " + what, Detail: tooLarge(name)}
	}
	return src, nil
}

func tooLarge(path string) string {
	return fmt.Sprintf("%s is larger than %d MiB, the most tune reads: an experiment or variable file is text of a few kilobytes.", path, MaxFileSize>>20)
}

// Parse parses HCL native syntax, or HCL JSON when the name ends in
// .json, after checking that the text does not nest deeper than
// MaxNesting.
func Parse(parser *hclparse.Parser, src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	isJSON := strings.HasSuffix(filename, ".json")
	var d *hcl.Diagnostic
	if isJSON {
		d = checkJSONNesting(src, filename)
	} else {
		tokens, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
		d = checkNesting(tokens)
	}
	if d != nil {
		// The parser shows the source line of a diagnostic only for the
		// files it holds; a line too long to read is better left out.
		if lineLength(src, d.Subject.Start.Byte) <= 200 {
			parser.AddFile(filename, &hcl.File{Bytes: src, Body: hcl.EmptyBody()})
		}
		return nil, hcl.Diagnostics{d}
	}
	if isJSON {
		return parser.ParseJSON(src, filename)
	}
	return parser.ParseHCL(src, filename)
}

// lineLength is the length of the line holding the byte at offset.
func lineLength(src []byte, offset int) int {
	offset = min(max(offset, 0), len(src))
	start := bytes.LastIndexByte(src[:offset], '\n') + 1
	end := bytes.IndexByte(src[offset:], '\n')
	if end < 0 {
		end = len(src) - offset
	}
	return offset + end - start
}

// parseExpression parses one expression (a -var value) after the same
// check.
func parseExpression(src []byte, filename string) (hclsyntax.Expression, hcl.Diagnostics) {
	tokens, _ := hclsyntax.LexExpression(src, filename, hcl.InitialPos)
	if d := checkNesting(tokens); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	return hclsyntax.ParseExpression(src, filename, hcl.InitialPos)
}

// checkNesting follows the parser's recursion over the tokens: each
// opening bracket, brace, quote or template sequence is a level, and so is
// each prefix operator or conditional in a chain ("!!!x", "a ? b : c ? d
// : e"), which the parser also handles by recursing. A comma ends a chain;
// so does a newline, except inside parentheses and brackets, where the
// parser skips newlines.
func checkNesting(tokens hclsyntax.Tokens) *hcl.Diagnostic {
	type level struct {
		open  hclsyntax.TokenType
		chain int
	}
	stack := []level{{}}
	depth := 0
	for i := range tokens {
		tok := &tokens[i]
		top := &stack[len(stack)-1]
		switch tok.Type {
		case hclsyntax.TokenOParen, hclsyntax.TokenOBrack, hclsyntax.TokenOBrace,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			stack = append(stack, level{open: tok.Type})
			depth++
		case hclsyntax.TokenCParen, hclsyntax.TokenCBrack, hclsyntax.TokenCBrace,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			if len(stack) > 1 {
				depth -= 1 + top.chain
				stack = stack[:len(stack)-1]
			}
		case hclsyntax.TokenBang, hclsyntax.TokenMinus, hclsyntax.TokenQuestion:
			top.chain++
			depth++
		case hclsyntax.TokenComma:
			depth -= top.chain
			top.chain = 0
		case hclsyntax.TokenNewline:
			if top.open != hclsyntax.TokenOParen && top.open != hclsyntax.TokenOBrack {
				depth -= top.chain
				top.chain = 0
			}
		}
		if depth > MaxNesting {
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Nested too deeply",
				Detail:   fmt.Sprintf("Brackets, blocks, strings and operators nest more than %d levels deep here, the most tune reads. Split the expression into locals.", MaxNesting),
				Subject:  tok.Range.Ptr(),
			}
		}
	}
	return nil
}

// checkJSONNesting bounds the depth of arrays and objects in an HCL JSON
// file, and of the templates in its strings, which HCL parses as native
// syntax when they are evaluated.
func checkJSONNesting(src []byte, filename string) *hcl.Diagnostic {
	depth, line, lineStart := 0, 1, 0
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\n':
			line, lineStart = line+1, i+1
		case '[', '{':
			depth++
			if depth > MaxNesting {
				pos := hcl.Pos{Line: line, Column: i - lineStart + 1, Byte: i}
				return &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Nested too deeply",
					Detail:   fmt.Sprintf("Arrays and objects nest more than %d levels deep here, the most tune reads.", MaxNesting),
					Subject:  &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: line, Column: pos.Column + 1, Byte: i + 1}},
				}
			}
		case ']', '}':
			depth--
		case '"':
			end := stringEnd(src, i+1)
			str := src[i+1 : end]
			if bytes.Contains(str, []byte("${")) || bytes.Contains(str, []byte("%{")) {
				start := hcl.Pos{Line: line, Column: i - lineStart + 2, Byte: i + 1}
				tokens, _ := hclsyntax.LexTemplate(str, filename, start)
				if d := checkNesting(tokens); d != nil {
					return d
				}
				if d := checkJSONLoops(tokens); d != nil {
					return d
				}
			}
			line += bytes.Count(str, []byte("\n"))
			if nl := bytes.LastIndexByte(str, '\n'); nl >= 0 {
				lineStart = i + 1 + nl + 1
			}
			i = end
		}
	}
	return nil
}

// checkJSONLoops refuses a template in an HCL JSON string with more than
// one for expression. Native files are rewritten so that every turn of a
// loop is charged to the evaluation budget; JSON strings are parsed only
// when they are evaluated, out of reach of that rewrite, and nested loops
// could build billions of values before anything is charged.
func checkJSONLoops(tokens hclsyntax.Tokens) *hcl.Diagnostic {
	loops := 0
	for i := 1; i < len(tokens); i++ {
		prev := tokens[i-1].Type
		if tokens[i].Type != hclsyntax.TokenIdent || string(tokens[i].Bytes) != "for" || (prev != hclsyntax.TokenOBrack && prev != hclsyntax.TokenOBrace) {
			continue
		}
		if loops++; loops > 1 {
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Nested for expressions in JSON",
				Detail:   "A string of an HCL JSON file may hold one for expression. Write nested loops in an .hcl file, where tune bounds what they build.",
				Subject:  tokens[i].Range.Ptr(),
			}
		}
	}
	return nil
}

// stringEnd returns the index of the quote that closes a JSON string
// whose contents start at i, or len(src).
func stringEnd(src []byte, i int) int {
	for ; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(src)
}
