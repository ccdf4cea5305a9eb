# want: 3: Scheduler without a metric: The median scheduler stops trials that rank badly
experiment "s" {
  scheduler "median" {}
  task "t" {
    command = "true"
  }
}
