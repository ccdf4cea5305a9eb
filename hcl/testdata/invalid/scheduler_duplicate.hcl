# want: 6: Duplicate scheduler block: An experiment has at most one scheduler; the first is at
experiment "s" {
  metric = "loss"
  mode   = "min"
  scheduler "asha" {}
  scheduler "median" {}
  task "t" {
    command = "true"
  }
}
