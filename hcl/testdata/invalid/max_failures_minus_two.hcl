# want: 7: Invalid value for max_failures: max_failures must be at least -1; got -2
experiment "retry" {
  task "train" {
    command = "python3"
  }
  failure {
    max_failures = -2
  }
}
