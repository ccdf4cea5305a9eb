# want: 3: Missing mode: A metric needs a mode
experiment "metric" {
  metric = "loss"
  task "train" {
    command = "python3"
  }
}
