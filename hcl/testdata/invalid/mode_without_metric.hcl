# want: 3: Missing metric: mode says whether a lower or higher metric is better, but no metric is named
experiment "mode" {
  mode = "min"
  task "train" {
    command = "python3"
  }
}
