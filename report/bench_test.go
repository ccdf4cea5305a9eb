package report

import (
	"os"
	"testing"
	"time"
)

// large is an experiment of 10,000 finished trials of 20 reports each,
// a tenth of them stopped early and one in fifty errored.
var large = fixture{name: "large", trials: 10000, finished: 10000, errored: 50, stopped: 10, iterations: 20, atOnce: 16}

// BenchmarkPageOf10000Trials measures building and rendering the page of
// the large experiment and reports its size:
//
//	go test ./report -run '^$' -bench PageOf10000Trials -benchtime 3x
func BenchmarkPageOf10000Trials(b *testing.B) {
	root := b.TempDir()
	large.write(b, root)
	b.ResetTimer()
	var size int
	for b.Loop() {
		m, err := Build(root, large.name, fixtureStart.Add(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		page, err := Render(m, false)
		if err != nil {
			b.Fatal(err)
		}
		size = len(page)
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB/page")
}

// BenchmarkBrowserOpensPageOf10000Trials measures how long headless
// chromium takes to load the large experiment's page and lay it out:
//
//	go test ./report -run '^$' -bench BrowserOpens -benchtime 3x
func BenchmarkBrowserOpensPageOf10000Trials(b *testing.B) {
	bin := chromium(b)
	root := b.TempDir()
	large.write(b, root)
	page, err := Write(root, large.name, fixtureStart.Add(time.Hour), false)
	if err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(page)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		runChromium(b, bin, page, "--dump-dom")
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "MiB/page")
}
