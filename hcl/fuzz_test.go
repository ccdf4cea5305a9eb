package hcl_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
)

// fuzzSeeds are small files beside the corpus, to start the fuzzer near
// the parts of the language the corpus does not reach.
var fuzzSeeds = []string{
	``,
	`experiment "a" {}`,
	`experiment "a" {
  space {
    x = qlograndint(1, 1024, 4, 2)
    y = qrandn(0, 1, 0.5)
    z = grid([[1, 2], { a = 1 }, null])
  }
  task "t" {
    command = "${trial.x}"
    env {
      Y = trial.y
    }
  }
}`,
	`variable "v" {
  type = list(number)
}
locals {
  l = var.v[0]
}
experiment "a" {
  group "g" {
    count = local.l + trial.index
    task "t" {
      driver = "docker"
      config {
        x "y" "z" {
          a = trial.id
        }
      }
    }
  }
}`,
	`experiment "a" {
  resources {
    memory = "${trial.m}MiB"
    device "a/b/c" {
      count = 1
      constraint {
        attribute = "${device.attr.x}"
        operator  = trial.op
      }
    }
  }
  space {
    m  = randint(1, 10)
    op = choice(["=", ">=", "bad"])
  }
  task "t" {
    command = "x"
  }
}`,
}

func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"invalid/*.hcl", "valid/*.hcl", "valid/*.json"} {
		files, err := filepath.Glob(filepath.Join("testdata", pattern))
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range files {
			src, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src, strings.HasSuffix(path, ".json"), "")
		}
	}
	for _, src := range fuzzSeeds {
		f.Add([]byte(src), false, "")
	}
	f.Add([]byte("variable \"v\" {}\nexperiment \"a\" {\n  num_samples = var.v\n  task \"t\" {\n    command = \"x\"\n  }\n}"), false, "v=3")
	f.Add([]byte(`{"experiment": {"a": {"task": {"t": {"command": "${var.v}"}}}}, "variable": {"v": {}}}`), true, "v=[1]")

	f.Fuzz(func(t *testing.T, src []byte, asJSON bool, varArg string) {
		filename := "fuzz.hcl"
		if asJSON {
			filename = "fuzz.json"
		}
		var opts tunehcl.Options
		if varArg != "" {
			opts.Vars = []string{varArg}
		}
		exp, diags := tunehcl.Load(filename, src, opts)
		if exp == nil && !diags.HasErrors() {
			t.Fatalf("no experiment and no error:%s", describe(diags))
		}
		if exp != nil && diags.HasErrors() {
			t.Fatalf("an experiment despite errors:%s", describe(diags))
		}
		for _, d := range diags {
			if d.Severity != hcl.DiagError {
				continue
			}
			if d.Subject == nil {
				// Only a -var option has no place in a file to point at.
				if !strings.Contains(d.Detail, "The option -var") {
					t.Fatalf("an error without a source range: %s: %s", d.Summary, d.Detail)
				}
				continue
			}
			if d.Subject.Filename == filename && (d.Subject.Start.Byte > len(src) || d.Subject.End.Byte > len(src) || d.Subject.Start.Byte > d.Subject.End.Byte) {
				t.Fatalf("a source range outside the file: %s: %s: %s", d.Subject, d.Summary, d.Detail)
			}
		}
		if exp == nil {
			return
		}
		// A valid experiment must resolve any trial without panicking.
		r := rand.New(rand.NewPCG(1, 2))
		for i := range 3 {
			tv := experiment.TrialVars{ID: "fuzz", Index: i}
			for _, p := range exp.Space.Params {
				var v cty.Value
				switch {
				case p.Dist.IsRandom():
					v = p.Dist.Sample(r)
				case len(p.Dist.Values) > 0:
					v = p.Dist.Values[i%len(p.Dist.Values)]
				default:
					t.Fatalf("parameter %s has no values", p.Name)
				}
				tv.Values = append(tv.Values, v)
			}
			_, _ = exp.ResolveShape(tv)
			_, _ = exp.ResolveTasks(tv)
		}
	})
}
