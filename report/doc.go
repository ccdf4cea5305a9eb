// Package report builds an experiment's report page, report.html: one
// self-contained HTML file with plots of the metric curves, the best
// result so far, the parameters against the metric, the schedule the
// planner ran and the results table.
//
// Its data comes from the results folder through results.Load, the reader
// behind tune results, plus plan.json, the part of the plan the results
// do not hold (what bounds the trials at once, the capacity, each trial's
// resources). Build turns them into a Model, a plain value that can be
// written as JSON; the page is rendered from the Model alone, so what the
// page shows and what the Model says cannot disagree.
//
// The plots are drawn with gonum.org/v1/plot into SVG on the Go side, so
// the page needs no script to show them, works from the file system and
// offline, and stays one file of text: a chart library that draws in the
// browser (ECharts) would add a megabyte of script to every page and a
// JavaScript engine to every test. The page carries two small scripts of
// its own: one sorts the results table, one records script errors where a
// headless browser can see them.
//
// The package reads results and writes report.html and plan.json only; it
// never changes a trial's files.
package report
